// @ts-check

/*
 * The change log beside the scopes' versions (src/database/changes.ts): one row per scope raised
 * by a registry write, at the version it got. `nodes` is null when the write may have changed the
 * scope in any way, or a JSON list of the lineage nodes whose details (a model version's state,
 * a run's name and phase) are all it changed: a held lineage answer that only such writes made
 * stale is patched with those nodes' details instead of walked again
 * (src/service/lineagePatch.ts). Old rows are pruned; the row of scope `~floor` says below which
 * version the log is no longer complete.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kubeai_change_log', table => {
    table.string('scope', 400).notNullable();
    table.bigInteger('version').notNullable();
    table.text('nodes');
    table.primary(['scope', 'version']);
    table.index(['version'], 'kubeai_change_log_version_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kubeai_change_log');
};
