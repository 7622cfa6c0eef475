// @ts-check

/*
 * Informer leader election (src/informers/LeaderLease.ts): the replica that leads a cluster's
 * informers stores, per watched kind, the resourceVersion up to which the registry has written
 * what it observed, so that the next leader resumes the watch there instead of relisting.
 * `kubeai_settings` holds this portal's installation id: the name of its Leases, so that two
 * portals watching one cluster (e.g. staging and production) never take each other's lead.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kubeai_informer_cursors', table => {
    table.string('cluster', 253).notNullable();
    table.string('kind', 63).notNullable();
    table.string('resource_version', 64).notNullable();
    table.string('written_by', 255).notNullable();
    table.string('updated_at', 32).notNullable();
    table.primary(['cluster', 'kind']);
  });
  await knex.schema.createTable('kubeai_settings', table => {
    table.string('key', 63).primary();
    table.text('value').notNullable();
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kubeai_informer_cursors');
  await knex.schema.dropTable('kubeai_settings');
};
