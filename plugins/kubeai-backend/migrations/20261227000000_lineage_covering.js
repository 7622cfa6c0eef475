// @ts-check

/*
 * Covering indexes for the lineage walk's largest reads (src/database/lineage.ts): a run's inputs by
 * run id, and a model's versions with their state and run. The database answers them from the
 * index alone instead of one table lookup per row (thousands for a hot model). The inputs index
 * replaces the plain run_id index it extends.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('kubeai_run_inputs', table => {
    table.dropIndex([], 'kubeai_run_inputs_run_idx');
    table.index(
      ['run_id', 'dataset_ref', 'dataset_version'],
      'kubeai_run_inputs_run_cover_idx',
    );
  });
  await knex.schema.alterTable('kubeai_model_versions', table => {
    table.index(
      ['model_ref', 'version', 'state', 'run_id'],
      'kubeai_model_versions_lineage_idx',
    );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kubeai_model_versions', table => {
    table.dropIndex([], 'kubeai_model_versions_lineage_idx');
  });
  await knex.schema.alterTable('kubeai_run_inputs', table => {
    table.dropIndex([], 'kubeai_run_inputs_run_cover_idx');
    table.index(['run_id'], 'kubeai_run_inputs_run_idx');
  });
};
