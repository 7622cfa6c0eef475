// @ts-check

/*
 * Observed state, written by the cluster informers (src/informers): every object of a watched
 * kind in every configured cluster (`kubeai_cluster_objects`), and the observed fields of runs.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kubeai_cluster_objects', table => {
    table.comment(
      'Objects of the watched kinds as the cluster informers last saw them',
    );
    table.increments('id').primary();
    table.string('cluster', 63).notNullable();
    table
      .string('kind', 32)
      .notNullable()
      .comment('Job, TFJob, Notebook, InferenceService, …');
    table.string('api_version', 100).notNullable();
    table.string('namespace', 63).notNullable();
    table.string('name', 253).notNullable();
    table.string('uid', 36).notNullable();
    table.string('resource_version', 32).notNullable();
    table
      .boolean('managed')
      .notNullable()
      .comment('carries app.kubernetes.io/managed-by: kubeai');
    table
      .string('entity_ref', 255)
      .nullable()
      .comment('kubeai.io/entity-ref annotation');
    table.string('model_ref', 140).nullable();
    table.string('model_version', 63).nullable();
    table.string('run_id', 36).nullable().comment('the run it is, if any');
    table
      .string('service_ref', 150)
      .nullable()
      .comment('the deployment it serves, if any');
    table.string('schedule_kind', 32).nullable();
    table.string('schedule_name', 253).nullable();
    table.string('phase', 32).notNullable();
    table.boolean('ready').nullable();
    table.text('url').nullable();
    table
      .text('storage_uri')
      .nullable()
      .comment('InferenceService: the predictor storageUri');
    table
      .text('observed')
      .notNullable()
      .comment('JSON: reason, message, timestamps, kind-specific details');
    table.string('created_at', 32).nullable().comment('creationTimestamp');
    table.string('observed_at', 32).notNullable();
    table.string('deleted_at', 32).nullable();
    table.unique(['cluster', 'kind', 'namespace', 'name'], {
      indexName: 'kubeai_cluster_objects_key_uniq',
    });
    table.index(['cluster', 'uid'], 'kubeai_cluster_objects_uid_idx');
    table.index(['run_id'], 'kubeai_cluster_objects_run_idx');
    table.index(['kind', 'managed'], 'kubeai_cluster_objects_kind_idx');
    table.index(['entity_ref'], 'kubeai_cluster_objects_entity_idx');
  });

  await knex.schema.alterTable('kubeai_runs', table => {
    table
      .string('reason', 255)
      .nullable()
      .comment('Machine-readable reason of the phase (from the cluster)');
    table
      .text('schedule')
      .nullable()
      .comment('JSON { kind, name, runId? }: the CronJob / CronWorkflow');
    table
      .text('observed')
      .nullable()
      .comment('JSON: what the cluster informers saw last');
    table.string('observed_at', 32).nullable();
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kubeai_runs', table => {
    table.dropColumn('observed_at');
    table.dropColumn('observed');
    table.dropColumn('schedule');
    table.dropColumn('reason');
  });
  await knex.schema.dropTable('kubeai_cluster_objects');
};
