// @ts-check

/*
 * Every task the portal applies looks up the run of its object by cluster and name (RunStore:
 * objectRunIds, before the apply — re-applying a task continues its run — and findObjectRun).
 * Without an index that was a scan of every run: at 40,000 runs a single-task POST /jobs spent
 * tens of milliseconds in it (bench/submit: 76 tasks/s at 2,000 tasks, 17 /s at 16,000), and the
 * forecasting users add 20,000 runs a day.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('kubeai_runs', table => {
    table.index(['cluster', 'name', 'namespace'], 'kubeai_runs_object_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kubeai_runs', table => {
    table.dropIndex([], 'kubeai_runs_object_idx');
  });
};
