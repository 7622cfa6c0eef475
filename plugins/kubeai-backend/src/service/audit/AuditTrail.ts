/**
 * The audit trail of the API: every mutating request (POST, PUT, PATCH, DELETE of an operation of
 * the spec) becomes one event — who, what, where, the outcome, when — sent to Backstage's auditor
 * service (as the catalog and the scaffolder do) and stored in the registry for
 * `GET /audit-events`. One middleware ahead of every route does it (see ../router.ts); handlers
 * only add what their request and answer do not say, with {@link noteAudit}.
 */
import type {
  AuditorService,
  AuditorServiceEvent,
  LoggerService,
} from '@backstage/backend-plugin-api';
import type { AuditEvent } from '@kubeai/plugin-kubeai-common';
import type {
  ErrorRequestHandler,
  Request,
  RequestHandler,
  Response,
} from 'express';
import type { AuditStore, NewAuditEvent } from '../../database/AuditStore';
import { nowIso } from '../../database/util';
import {
  isMutating,
  matchOperation,
  type MatchedOperation,
} from './operations';
import { describe, type AuditDetails } from './summaries';

export type { AuditDetails } from './summaries';

/** Where a request's audit state lives (`res.locals`). */
const KEY = 'kubeaiAudit';

interface RequestAudit {
  details: AuditDetails;
  /** The error the request failed with (captured on its way to the error handler). */
  error?: unknown;
  /** The JSON answer. */
  response?: unknown;
}

const stateOf = (res: Response | undefined): RequestAudit | undefined =>
  res?.locals?.[KEY];

/**
 * Adds what only a handler knows to the audit event of its request (the model version an alias
 * resolved to, the entity of a deleted object): a no-op outside an audited request.
 */
export function noteAudit(
  res: Response | undefined,
  details: AuditDetails,
): void {
  const state = stateOf(res);
  if (!state) return;
  const merged = state.details;
  merged.entityRefs = [
    ...(merged.entityRefs ?? []),
    ...(details.entityRefs ?? []),
  ];
  merged.runIds = [...(merged.runIds ?? []), ...(details.runIds ?? [])];
  if (details.modelRef !== undefined) merged.modelRef = details.modelRef;
  if (details.modelVersion !== undefined) {
    merged.modelVersion = details.modelVersion;
  }
}

/** Events waiting to be stored at most; beyond, they go to the auditor service only. */
const MAX_PENDING = 10_000;
/** Events stored per transaction. */
const BATCH = 200;

/** 403: the portal's policy or the cluster's RBAC said no; any other error status failed. */
function outcomeOf(status: number): AuditEvent['outcome'] {
  if (status < 400) return 'succeeded';
  return status === 403 ? 'denied' : 'failed';
}

const kebab = (operationId: string) =>
  operationId.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`);

function messageOf(value: unknown): string | undefined {
  const message = (value as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message.slice(0, 2000) : undefined;
}

/** What {@link AuditTrail} needs. */
export interface AuditTrailOptions {
  store: AuditStore;
  logger: LoggerService;
  /** Backstage's auditor service; without it events are only stored. */
  auditor?: AuditorService;
}

/** Audits the mutating requests of the router (its middleware) and stores their events. */
export class AuditTrail {
  readonly #store: AuditStore;
  readonly #logger: LoggerService;
  readonly #auditor?: AuditorService;
  /** Events in the order their answers were sent; each resolves once its actor is known. */
  readonly #pending: Array<Promise<NewAuditEvent | undefined>> = [];
  #writing: Promise<void> | undefined;
  #dropped = 0;

  constructor(options: AuditTrailOptions) {
    this.#store = options.store;
    this.#logger = options.logger;
    this.#auditor = options.auditor;
  }

  /**
   * The middleware, first in the router (before body parsing: a body refused there is audited
   * too). `actorOf` names the caller: the user entity ref or the service subject.
   */
  middleware(actorOf: (req: Request) => Promise<string>): RequestHandler {
    return (req, res, next) => {
      const operation = isMutating(req.method)
        ? matchOperation(req.method, req.path)
        : undefined;
      if (!operation) {
        next();
        return;
      }
      const state: RequestAudit = { details: {} };
      res.locals[KEY] = state;
      const json = res.json;
      res.json = ((body?: unknown) => {
        state.response = body;
        return json.call(res, body);
      }) as Response['json'];
      const actor = actorOf(req).catch(() => 'unknown');
      const initiated = this.#initiate(req, operation);
      // The event is taken when the answer is ended, not when it was delivered ('finish'): then
      // it is queued before the client can see the answer, so a read of the trail that follows
      // always finds it (GET /audit-events waits for the queue), and a client that hangs up
      // early does not lose it.
      let settled = false;
      const end = res.end as (...args: unknown[]) => Response;
      res.end = ((...args: unknown[]) => {
        if (!settled) {
          settled = true;
          this.#settle(req, res, operation, state, actor, initiated);
        }
        return end.apply(res, args);
      }) as Response['end'];
      next();
    };
  }

  /** The error handler that keeps the error of an audited request for its event (then passes it on). */
  captureErrors(): ErrorRequestHandler {
    return (error, _req, res, next) => {
      const state = stateOf(res);
      if (state) state.error = error;
      next(error);
    };
  }

  /** Resolves once every event of an answer already sent is stored (or failed to be). */
  async flushed(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  #initiate(
    req: Request,
    operation: MatchedOperation,
  ): Promise<AuditorServiceEvent | undefined> {
    if (!this.#auditor) return Promise.resolve(undefined);
    return this.#auditor
      .createEvent({
        eventId: kebab(operation.operationId),
        severityLevel: 'medium',
        request: req,
        meta: { operationId: operation.operationId, params: operation.params },
      })
      .catch(error => {
        this.#logger.warn(`kubeai could not start an audit event: ${error}`);
        return undefined;
      });
  }

  #settle(
    req: Request,
    res: Response,
    operation: MatchedOperation,
    state: RequestAudit,
    actor: Promise<string>,
    initiated: Promise<AuditorServiceEvent | undefined>,
  ) {
    const status = res.statusCode;
    const outcome = outcomeOf(status);
    const succeeded = outcome === 'succeeded';
    const occurredAt = nowIso();
    const description = describe(
      {
        operationId: operation.operationId,
        params: operation.params,
        query: (req.query ?? {}) as Record<string, unknown>,
        body: req.body,
        response: succeeded ? state.response : undefined,
        details: state.details,
      },
      succeeded,
    );
    const error = succeeded
      ? undefined
      : messageOf(state.error) ??
        messageOf((state.response as { error?: unknown } | undefined)?.error) ??
        `answered ${status}`;
    const event = actor.then(
      (who): NewAuditEvent => ({
        occurredAt,
        actor: who,
        operationId: operation.operationId,
        method: operation.method,
        path: req.path.slice(0, 2000),
        summary: description.summary,
        outcome,
        status,
        ...(error !== undefined ? { error } : {}),
        dryRun: description.dryRun,
        ...(description.cluster ? { cluster: description.cluster } : {}),
        ...(description.namespace ? { namespace: description.namespace } : {}),
        entityRefs: description.entityRefs,
        runIds: description.runIds,
        ...(description.modelVersion !== undefined
          ? { modelVersion: description.modelVersion }
          : {}),
      }),
    );
    this.#record(event);
    Promise.all([event, initiated])
      .then(async ([stored, auditorEvent]) => {
        if (!auditorEvent) return;
        const { occurredAt: _at, ...meta } = stored;
        if (succeeded) {
          await auditorEvent.success({ meta });
        } else {
          await auditorEvent.fail({
            meta,
            error:
              state.error instanceof Error ? state.error : new Error(error),
          });
        }
      })
      .catch(failure => {
        this.#logger.warn(`kubeai could not finish an audit event: ${failure}`);
      });
  }

  #record(event: Promise<NewAuditEvent | undefined>) {
    if (this.#pending.length >= MAX_PENDING) {
      // the database is behind or down: the auditor service still has the event
      if (this.#dropped++ % 1000 === 0) {
        this.#logger.error(
          `kubeai audit trail: ${
            this.#dropped
          } events not stored (the registry database is not keeping up)`,
        );
      }
      return;
    }
    this.#pending.push(event);
    this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    // the answers of one tick in one transaction
    await new Promise(resolve => setImmediate(resolve));
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, BATCH);
      const events = (await Promise.all(batch)).filter(
        (e): e is NewAuditEvent => e !== undefined,
      );
      try {
        await this.#store.append(events);
      } catch (error) {
        this.#logger.error(
          `kubeai could not store ${events.length} audit events: ${error}`,
        );
      }
    }
    this.#writing = undefined;
  }
}
