/** The audit trail of the API's writes (`kubeai_audit_events`, `kubeai_audit_event_targets`). */
import type {
  AuditEvent,
  AuditEventList,
  ListAuditEventsQuery,
} from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { normalizeRef } from '../refs';
import { fromJson, toIso, toJson } from './util';

/** An event to store: everything but the id the database assigns. */
export type NewAuditEvent = Omit<AuditEvent, 'id'>;

/** Default and largest page of {@link AuditStore.list}. */
export const AUDIT_PAGE = { default: 50, max: 500 } as const;

interface AuditEventRow {
  id: number | string;
  occurred_at: string;
  actor: string;
  operation_id: string;
  method: string;
  path: string;
  summary: string;
  outcome: string;
  status: number;
  error: string | null;
  dry_run: boolean | number;
  cluster: string | null;
  namespace: string | null;
  model_version: number | null;
  entity_refs: string;
  run_ids: string;
}

/**
 * Appends and reads audit events. Uses the registry's knex instance itself, not the write-tracking
 * one of the other stores: an audit row changes no registry answer, so it must not invalidate the
 * lineage cache (its inserts run in transactions, which the change counter only sees through
 * `trackWrites`).
 */
export class AuditStore {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

  /** Stores events in order (one transaction); their ids increase in that order. */
  async append(events: NewAuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.#db.transaction(async tx => {
      for (const event of events) {
        const [inserted] = await tx('kubeai_audit_events')
          .insert({
            occurred_at: event.occurredAt,
            actor: event.actor,
            operation_id: event.operationId,
            method: event.method,
            path: event.path,
            summary: event.summary,
            outcome: event.outcome,
            status: event.status,
            error: event.error ?? null,
            dry_run: event.dryRun,
            cluster: event.cluster ?? null,
            namespace: event.namespace ?? null,
            model_version: event.modelVersion ?? null,
            entity_refs: toJson(event.entityRefs),
            run_ids: toJson(event.runIds),
          })
          .returning('id');
        const id = Number(
          typeof inserted === 'object' ? inserted.id : inserted,
        );
        const targets = [...new Set(event.entityRefs.map(normalizeRef))].map(
          target => ({ type: 'entity', target, event_id: id }),
        );
        for (const runId of new Set(event.runIds)) {
          targets.push({ type: 'run', target: runId, event_id: id });
        }
        // a batch of 1,000 tasks: below every database's bind-parameter limit per statement
        for (let i = 0; i < targets.length; i += 500) {
          await tx('kubeai_audit_event_targets').insert(
            targets.slice(i, i + 500),
          );
        }
      }
    });
  }

  /** Events matching every given filter, newest first, and the cursor of the next page. */
  async list(query: ListAuditEventsQuery = {}): Promise<AuditEventList> {
    const limit = Math.min(query.limit ?? AUDIT_PAGE.default, AUDIT_PAGE.max);
    const q = this.#db<AuditEventRow>('kubeai_audit_events');
    const target = (type: 'entity' | 'run', value: string) =>
      q.whereIn(
        'id',
        this.#db('kubeai_audit_event_targets')
          .select('event_id')
          .where({ type, target: value }),
      );
    if (query.entityRef) target('entity', normalizeRef(query.entityRef));
    if (query.runId) target('run', query.runId);
    if (query.actor) q.where('actor', query.actor);
    if (query.cluster) q.where('cluster', query.cluster);
    if (query.namespace) q.where('namespace', query.namespace);
    if (query.before !== undefined) q.where('id', '<', query.before);
    if (query.beforeTime) q.where('occurred_at', '<', toIso(query.beforeTime)!);
    const rows = await q
      .select()
      .orderBy('id', 'desc')
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(eventFromRow);
    return rows.length > limit
      ? { items, nextBefore: items[items.length - 1].id }
      : { items };
  }
}

function eventFromRow(row: AuditEventRow): AuditEvent {
  return {
    id: Number(row.id),
    occurredAt: row.occurred_at,
    actor: row.actor,
    operationId: row.operation_id,
    method: row.method as AuditEvent['method'],
    path: row.path,
    summary: row.summary,
    outcome: row.outcome as AuditEvent['outcome'],
    status: Number(row.status),
    ...(row.error !== null ? { error: row.error } : {}),
    dryRun: Boolean(row.dry_run),
    ...(row.cluster !== null ? { cluster: row.cluster } : {}),
    ...(row.namespace !== null ? { namespace: row.namespace } : {}),
    entityRefs: fromJson<string[]>(row.entity_refs, []),
    runIds: fromJson<string[]>(row.run_ids, []),
    ...(row.model_version !== null
      ? { modelVersion: Number(row.model_version) }
      : {}),
  };
}
