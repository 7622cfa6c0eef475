// @ts-check

/*
 * - `kubeai_registry_changes` (PostgreSQL): the sequence whose value changes with every committed
 *   registry write, shared by backend replicas (src/database/changes.ts). SQLite needs none: one
 *   process owns the file.
 * - An index on model versions' artifact URI: discovered InferenceServices and observed traffic are
 *   matched to registered versions by their storageUri. A hash index on PostgreSQL (URIs may be
 *   longer than a btree entry allows); a plain index on SQLite.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  if (knex.client.config.client === 'pg') {
    await knex.raw('create sequence if not exists kubeai_registry_changes');
    await knex.raw(
      'create index kubeai_model_versions_artifact_idx on kubeai_model_versions using hash (artifact_uri)',
    );
  } else {
    await knex.schema.alterTable('kubeai_model_versions', table => {
      table.index(['artifact_uri'], 'kubeai_model_versions_artifact_idx');
    });
  }
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kubeai_model_versions', table => {
    table.dropIndex([], 'kubeai_model_versions_artifact_idx');
  });
  if (knex.client.config.client === 'pg') {
    await knex.raw('drop sequence if exists kubeai_registry_changes');
  }
};
