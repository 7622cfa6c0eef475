// @ts-check

/*
 * The audit trail (src/database/AuditStore.ts): one row per mutating request of the API with its
 * outcome, read back by `GET /audit-events` for the run, service and model pages.
 *
 * - `kubeai_audit_events`: the events; `id` orders them (newest first) and is the page cursor.
 *   `entity_refs` / `run_ids` (JSON arrays) are what the answer shows.
 * - `kubeai_audit_event_targets`: the same entity refs and run ids, one row each, keyed for the
 *   lookups of a page (`entity` / `run`, the ref, then the event id in order).
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kubeai_audit_events', table => {
    table.comment('Writes of the KubeAI API and their outcome');
    table.bigIncrements('id').primary();
    table.string('occurred_at', 32).notNullable();
    table
      .string('actor', 255)
      .notNullable()
      .comment('User entity ref or service subject');
    table.string('operation_id', 64).notNullable();
    table.string('method', 8).notNullable();
    table.text('path').notNullable();
    table.text('summary').notNullable();
    table
      .string('outcome', 16)
      .notNullable()
      .comment('succeeded | denied | failed');
    table.integer('status').notNullable();
    table.text('error').nullable();
    table.boolean('dry_run').notNullable();
    table.string('cluster', 63).nullable();
    table.string('namespace', 63).nullable();
    table.integer('model_version').nullable();
    table.text('entity_refs').notNullable().comment('JSON array');
    table.text('run_ids').notNullable().comment('JSON array');
    table.index(['actor', 'id'], 'kubeai_audit_events_actor_idx');
    table.index(
      ['cluster', 'namespace', 'id'],
      'kubeai_audit_events_where_idx',
    );
    table.index(['namespace', 'id'], 'kubeai_audit_events_namespace_idx');
    table.index(['occurred_at'], 'kubeai_audit_events_time_idx');
  });

  await knex.schema.createTable('kubeai_audit_event_targets', table => {
    table.comment('The entities and runs of audit events, for lookups');
    table.string('type', 8).notNullable().comment('entity | run');
    table.string('target', 255).notNullable();
    table
      .bigInteger('event_id')
      .notNullable()
      .references('id')
      .inTable('kubeai_audit_events')
      .onDelete('CASCADE');
    table.primary(
      ['type', 'target', 'event_id'],
      'kubeai_audit_event_targets_pk',
    );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kubeai_audit_event_targets');
  await knex.schema.dropTable('kubeai_audit_events');
};
