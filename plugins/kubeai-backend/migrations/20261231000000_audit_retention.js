// @ts-check

/*
 * Audit retention (src/service/audit/retention.ts) deletes old events in batches, their target rows
 * by event id. The targets' primary key starts with (type, target), so without this index each
 * batch would scan the whole table — and on PostgreSQL so would the foreign key's check for every
 * deleted event. The events' time column already has kubeai_audit_events_time_idx.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('kubeai_audit_event_targets', table => {
    table.index(['event_id'], 'kubeai_audit_event_targets_event_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kubeai_audit_event_targets', table => {
    table.dropIndex([], 'kubeai_audit_event_targets_event_idx');
  });
};
