// @ts-check

/*
 * The lineage answer summarises a periodic task's executions by phase (database/lineageExecutions.ts):
 * one grouped count over up to 20,000 child runs per task. With the phase in the index the count
 * reads the index alone instead of every execution's row.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('kubeai_runs', table => {
    table.index(['parent_run_id', 'phase'], 'kubeai_runs_parent_phase_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kubeai_runs', table => {
    table.dropIndex([], 'kubeai_runs_parent_phase_idx');
  });
};
