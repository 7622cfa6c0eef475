// @ts-check

/*
 * Run retention (src/database/RunRetention.ts): finished runs older than
 * `kubeai.retention.runs.maxAgeDays` are deleted; before that each is folded into a daily rollup
 * so reports (runs, durations, requested resources per day, team and model) survive them. One row
 * per day the run finished (UTC) and (cluster, namespace, team, model, kind, task, phase); the
 * fold adds to it in the transaction that deletes the runs, so a crash between batches neither
 * loses nor double-counts a run. Unknown key parts are '' (not NULL: a unique index treats NULLs
 * as distinct, and the fold upserts on it).
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kubeai_run_rollups', table => {
    table.comment('Daily sums of the runs removed by run retention');
    table.increments('id').primary();
    table
      .string('day', 10)
      .notNullable()
      .comment('YYYY-MM-DD (UTC) the runs finished');
    table.string('cluster', 63).notNullable();
    table.string('namespace', 63).notNullable();
    table
      .string('team', 255)
      .notNullable()
      .comment("The namespace's owner when known, else ''");
    table.string('model_ref', 140).notNullable().comment("'' for none");
    table
      .string('kind', 16)
      .notNullable()
      .comment('training | notebook | pipeline');
    table
      .string('task', 300)
      .notNullable()
      .comment("The periodic task (CronJob kind/name) of executions, else ''");
    table.string('phase', 16).notNullable();
    table.bigInteger('runs').notNullable();
    table
      .double('duration_seconds')
      .notNullable()
      .comment('Sum of finished_at - (started_at or created_at)');
    table
      .double('cpu_seconds')
      .notNullable()
      .comment('requested cores × duration, runs that record them');
    table.double('memory_gib_seconds').notNullable();
    table.double('gpu_seconds').notNullable();
    table
      .double('cost')
      .nullable()
      .comment('Sum of the known costs; NULL: none known');
    table.string('updated_at', 32).notNullable();
    table.unique(
      [
        'day',
        'cluster',
        'namespace',
        'team',
        'model_ref',
        'kind',
        'task',
        'phase',
      ],
      { indexName: 'kubeai_run_rollups_key_uniq' },
    );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kubeai_run_rollups');
};
