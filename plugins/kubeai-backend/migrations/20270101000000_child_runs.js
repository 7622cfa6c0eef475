// @ts-check

/*
 * Child runs: the Jobs a periodic task's CronJob starts are runs of their own, each pointing at the
 * periodic task's run (`parent_run_id`). A parent may gain 20,000 executions a day, so the parent
 * keeps their count (`child_count`, maintained by the informers' batch writes) instead of counting
 * them on every read, and the executions of one parent are read newest first from one index.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('kubeai_runs', table => {
    table
      .string('parent_run_id', 36)
      .nullable()
      .comment('The run of the periodic task (CronJob) that started this one');
    table
      .integer('child_count')
      .notNullable()
      .defaultTo(0)
      .comment('How many runs have this run as their parent');
    table.index(
      ['parent_run_id', 'created_at', 'id'],
      'kubeai_runs_parent_idx',
    );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kubeai_runs', table => {
    table.dropIndex([], 'kubeai_runs_parent_idx');
    table.dropColumn('child_count');
    table.dropColumn('parent_run_id');
  });
};
