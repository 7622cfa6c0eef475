// @ts-check

/*
 * Where a run runs in the team's pools (Kueue): the ClusterQueue and ResourceFlavor it was routed
 * to when the portal created it, then what Kueue's Workload for it says (admitted to a queue on a
 * flavor, or pending and why). Cost reads the flavor (its price); the run page shows the admission.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('kubeai_runs', table => {
    table
      .string('cluster_queue', 253)
      .nullable()
      .comment('Kueue ClusterQueue of the run: routed at creation, then as admitted');
    table
      .string('flavor', 253)
      .nullable()
      .comment('ResourceFlavor (pool) of the run: routed at creation, then as admitted');
    table
      .text('admission')
      .nullable()
      .comment('JSON: the state of its Kueue Workload (admitted / pending, why, when)');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kubeai_runs', table => {
    table.dropColumn('admission');
    table.dropColumn('flavor');
    table.dropColumn('cluster_queue');
  });
};
