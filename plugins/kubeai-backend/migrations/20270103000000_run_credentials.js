// @ts-check

/*
 * Run-scoped credentials: the token the portal mounts (as a Secret) into the pods of a run it
 * creates, so training code can register its model version, the dataset versions it read and its
 * own phase and metrics without the portal's token. Only a SHA-256 of each token is kept: a leaked
 * database does not leak a usable credential. Tokens expire (`expires_at`); a run's live
 * credentials are renewed by the `kubeai-run-credentials` task while the run is not finished.
 *
 * Runs also get `metrics` (what the run reports about itself, e.g. loss per epoch summary),
 * distinct from the metrics of the model versions it registers.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kubeai_run_credentials', table => {
    table.comment(
      'Run-scoped credentials (hashes only) mounted into the pods of a run',
    );
    table
      .string('token_hash', 64)
      .primary()
      .comment('SHA-256 (hex) of the token; the token itself is never stored');
    table.string('run_id', 36).notNullable().comment('The run it acts for');
    table
      .text('model_ref')
      .nullable()
      .comment('The only model whose versions it may register');
    table
      .text('scope')
      .notNullable()
      .defaultTo('{}')
      .comment(
        'JSON: what else it may do (the InferenceServices a pipeline rolls out)',
      );
    table.string('secret_namespace', 253).nullable();
    table.string('secret_name', 253).nullable();
    table
      .string('secret_key', 253)
      .nullable()
      .comment('Its key in the Secret (the runs of one batch share a Secret, a key each)');
    table.string('cluster', 253).nullable();
    table.string('created_at', 32).notNullable();
    table.string('expires_at', 32).notNullable();
    table.index(['run_id'], 'kubeai_run_credentials_run_idx');
    table.index(['expires_at'], 'kubeai_run_credentials_expiry_idx');
  });
  await knex.schema.alterTable('kubeai_runs', table => {
    table
      .text('metrics')
      .nullable()
      .comment('JSON map of what the run reported about itself');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kubeai_runs', table => {
    table.dropColumn('metrics');
  });
  await knex.schema.dropTable('kubeai_run_credentials');
};
