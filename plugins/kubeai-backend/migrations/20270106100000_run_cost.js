// @ts-check

/*
 * Cost (src/cost): each finished run's cost is computed once, by the scheduled fold
 * (`kubeai-cost-fold`), from its observed start and end, pods and requests × its flavor's prices,
 * stored on the run (`kubeai_runs.cost`) and added to a daily sum per (day, team, cluster,
 * namespace, model, flavor) in the same transaction — so a report of a team's year reads a few
 * thousand sums instead of millions of runs, and no run is counted twice (a run with `cost` set is
 * in the sums; one without is not, and is priced live at read time). Run retention folds the
 * runs it removes first (same transaction), so the sums survive it. Unknown key parts are ''.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('kubeai_runs', table => {
    table
      .double('cost')
      .nullable()
      .comment(
        'Folded cost (currency of kubeai.cost); NULL: not folded yet (running, or just finished)',
      );
  });
  // The runs not folded yet — the running ones and the just finished ones — are a handful among
  // millions: a partial index finds them without scanning (SQLite and PostgreSQL both have them).
  await knex.schema.alterTable('kubeai_runs', table => {
    table.index(['phase'], 'kubeai_runs_cost_open_idx', {
      predicate: knex.whereNull('cost'),
    });
  });
  await knex.schema.createTable('kubeai_cost_daily', table => {
    table.comment('Daily sums of the folded cost of runs (src/cost)');
    table.increments('id').primary();
    table
      .string('day', 10)
      .notNullable()
      .comment('YYYY-MM-DD (UTC) the runs finished');
    table
      .string('team', 255)
      .notNullable()
      .comment("The namespace's owner when folded, else ''");
    table.string('cluster', 63).notNullable();
    table.string('namespace', 63).notNullable();
    table.string('model_ref', 140).notNullable().comment("'' for none");
    table
      .string('flavor', 253)
      .notNullable()
      .comment("'' for none (priced at the default)");
    table.bigInteger('runs').notNullable();
    table
      .double('run_seconds')
      .notNullable()
      .comment("Sum of the runs' durations");
    table.double('cpu_seconds').notNullable().comment('cores × pods × seconds');
    table.double('memory_gib_seconds').notNullable();
    table.double('gpu_seconds').notNullable();
    table.double('cost').notNullable();
    table.string('updated_at', 32).notNullable();
    table.unique(
      ['day', 'team', 'cluster', 'namespace', 'model_ref', 'flavor'],
      {
        indexName: 'kubeai_cost_daily_key_uniq',
      },
    );
    table.index(['team', 'day'], 'kubeai_cost_daily_team_idx');
    table.index(['model_ref', 'day'], 'kubeai_cost_daily_model_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kubeai_cost_daily');
  await knex.schema.alterTable('kubeai_runs', table => {
    table.dropIndex([], 'kubeai_runs_cost_open_idx');
  });
  await knex.schema.alterTable('kubeai_runs', table => {
    table.dropColumn('cost');
  });
};
