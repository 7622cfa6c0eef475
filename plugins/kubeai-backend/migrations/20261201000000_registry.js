// @ts-check

/*
 * The KubeAI registry: model versions and aliases, dataset versions, runs and their inputs,
 * deployments with their traffic split and revision history.
 *
 * Portable across SQLite and PostgreSQL: JSON values are stored as text, timestamps as ISO 8601
 * strings (UTC, `…Z`, sortable), entity refs lower-case (`model:default/foo`).
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kubeai_runs', table => {
    table.comment('Training tasks, notebook sessions and pipeline runs');
    table.string('id', 36).primary().comment('UUID assigned by the registry');
    table
      .string('kind', 16)
      .notNullable()
      .comment('training | notebook | pipeline');
    table.string('cluster', 63).notNullable();
    table.string('namespace', 63).notNullable();
    table.string('name', 253).notNullable();
    table
      .string('uid', 36)
      .nullable()
      .comment('metadata.uid of the Kubernetes object');
    table
      .string('model_ref', 140)
      .nullable()
      .comment('The model the run trains');
    table.string('phase', 16).notNullable();
    table.text('message').nullable();
    table.string('started_at', 32).nullable();
    table.string('finished_at', 32).nullable();
    table.text('params').notNullable().comment('JSON object');
    table.string('created_by', 255).notNullable();
    table.string('created_at', 32).notNullable();
    table.string('updated_at', 32).notNullable();
    table.unique(['cluster', 'uid'], {
      indexName: 'kubeai_runs_cluster_uid_uniq',
    });
    table.index(['model_ref', 'created_at'], 'kubeai_runs_model_idx');
    table.index(['created_at'], 'kubeai_runs_created_idx');
  });

  await knex.schema.createTable('kubeai_dataset_versions', table => {
    table.comment('Versions of Dataset entities');
    table.increments('id').primary();
    table.string('dataset_ref', 140).notNullable();
    table.string('version', 64).notNullable();
    table.text('uri').notNullable();
    table.string('digest', 200).nullable();
    table.bigInteger('size').nullable();
    table.text('description').nullable();
    table.string('created_by', 255).notNullable();
    table.string('created_at', 32).notNullable();
    table.unique(['dataset_ref', 'version'], {
      indexName: 'kubeai_dataset_versions_ref_version_uniq',
    });
  });

  await knex.schema.createTable('kubeai_run_inputs', table => {
    table.comment('Datasets (and dataset versions) read by runs');
    table.increments('id').primary();
    table
      .string('run_id', 36)
      .notNullable()
      .references('id')
      .inTable('kubeai_runs')
      .onDelete('CASCADE');
    table.string('dataset_ref', 140).notNullable();
    table
      .string('dataset_version', 64)
      .nullable()
      .comment('null: no particular version');
    table.index(['run_id'], 'kubeai_run_inputs_run_idx');
    table.index(
      ['dataset_ref', 'dataset_version'],
      'kubeai_run_inputs_dataset_idx',
    );
  });

  await knex.schema.createTable('kubeai_model_versions', table => {
    table.comment('Numbered versions of Model entities');
    table.increments('id').primary();
    table.string('model_ref', 140).notNullable();
    table
      .integer('version')
      .notNullable()
      .comment('1, 2, 3… per model, no gaps');
    table.text('artifact_uri').notNullable();
    table.string('artifact_format', 64).notNullable();
    table.string('artifact_digest', 200).nullable();
    table.bigInteger('artifact_size').nullable();
    table.string('framework', 64).nullable();
    table.text('description').nullable();
    table.text('metrics').notNullable().comment('JSON object name → number');
    table.text('curves').nullable().comment('JSON { roc?, pr? }');
    table.text('params').notNullable().comment('JSON object');
    table.text('tags').notNullable().comment('JSON array of strings');
    table.string('state', 16).notNullable().comment('live | archived');
    table
      .string('run_id', 36)
      .nullable()
      .references('id')
      .inTable('kubeai_runs')
      .comment('The run that produced the version');
    table.string('created_by', 255).notNullable();
    table.string('created_at', 32).notNullable();
    table.string('updated_at', 32).notNullable();
    table.unique(['model_ref', 'version'], {
      indexName: 'kubeai_model_versions_ref_version_uniq',
    });
    table.index(['run_id'], 'kubeai_model_versions_run_idx');
  });

  await knex.schema.createTable('kubeai_model_aliases', table => {
    table.comment('Aliases of model versions; one version per alias and model');
    table.string('model_ref', 140).notNullable();
    table.string('alias', 63).notNullable();
    table.integer('version').notNullable();
    table.string('updated_by', 255).notNullable();
    table.string('updated_at', 32).notNullable();
    table.primary(['model_ref', 'alias'], 'kubeai_model_aliases_pk');
    table.index(['model_ref', 'version'], 'kubeai_model_aliases_version_idx');
  });

  await knex.schema.createTable('kubeai_deployments', table => {
    table.comment('Current desired / observed state of each inference service');
    table.string('service_ref', 150).primary();
    table.string('cluster', 63).notNullable();
    table.string('namespace', 63).notNullable();
    table.string('name', 253).notNullable();
    table.string('model_ref', 140).notNullable();
    table.integer('revision').notNullable();
    table.text('traffic').notNullable().comment('JSON [{ version, percent }]');
    table.text('desired').notNullable().comment('JSON object');
    table
      .text('observed')
      .nullable()
      .comment('JSON object written by the cluster informers');
    table.string('observed_at', 32).nullable();
    table.string('created_at', 32).notNullable();
    table.string('updated_at', 32).notNullable();
    table.string('updated_by', 255).notNullable();
    table.index(['model_ref'], 'kubeai_deployments_model_idx');
  });

  await knex.schema.createTable('kubeai_deployment_traffic', table => {
    table.comment(
      'The current traffic split, one row per served model version (for queries)',
    );
    table
      .string('service_ref', 150)
      .notNullable()
      .references('service_ref')
      .inTable('kubeai_deployments')
      .onDelete('CASCADE');
    table.string('model_ref', 140).notNullable();
    table.integer('version').notNullable();
    table.integer('percent').notNullable();
    table.primary(
      ['service_ref', 'model_ref', 'version'],
      'kubeai_deployment_traffic_pk',
    );
    table.index(
      ['model_ref', 'version'],
      'kubeai_deployment_traffic_version_idx',
    );
  });

  await knex.schema.createTable('kubeai_deployment_revisions', table => {
    table.comment('History of the desired state of each deployment');
    table.increments('id').primary();
    table
      .string('service_ref', 150)
      .notNullable()
      .references('service_ref')
      .inTable('kubeai_deployments')
      .onDelete('CASCADE');
    table.integer('revision').notNullable();
    table.string('model_ref', 140).notNullable();
    table.text('traffic').notNullable();
    table.text('desired').notNullable();
    table.text('message').nullable();
    table.string('created_by', 255).notNullable();
    table.string('created_at', 32).notNullable();
    table.unique(['service_ref', 'revision'], {
      indexName: 'kubeai_deployment_revisions_uniq',
    });
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kubeai_deployment_revisions');
  await knex.schema.dropTable('kubeai_deployment_traffic');
  await knex.schema.dropTable('kubeai_deployments');
  await knex.schema.dropTable('kubeai_model_aliases');
  await knex.schema.dropTable('kubeai_model_versions');
  await knex.schema.dropTable('kubeai_run_inputs');
  await knex.schema.dropTable('kubeai_dataset_versions');
  await knex.schema.dropTable('kubeai_runs');
};
