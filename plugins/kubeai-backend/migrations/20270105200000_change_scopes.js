// @ts-check

/*
 * Change tokens per scope (src/database/changes.ts): every committed registry write raises the
 * version of the scopes it changes — entity refs (`model:default/x`, `dataset:…`,
 * `inferenceservice:…`), `run:<id>`, `artifact:<uri>`, or `*` when a write does not say — to a
 * new highest version. A lineage answer is valid while the versions of the scopes of its nodes
 * and `*` stay; every replica reads the same versions, so their ETags agree.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kubeai_change_scopes', table => {
    table.string('scope', 400).primary();
    table.bigInteger('version').notNullable();
    table.index(['version'], 'kubeai_change_scopes_version_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kubeai_change_scopes');
};
