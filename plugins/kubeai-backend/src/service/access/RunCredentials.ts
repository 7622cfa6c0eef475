/**
 * Run-scoped credentials at the API's door. The pods of a run the portal created hold a token of
 * their run (mounted from a Secret; ../../database/RunCredentialStore.ts). It is accepted for
 * exactly what training code and pipeline steps need, and nothing else:
 *
 * - `POST /models/{ns}/{name}/versions` of the run's model, with the run's id (filled in when absent);
 * - `POST /datasets/{ns}/{name}/versions` of a dataset the run reads (the version becomes its input);
 * - `PATCH /runs/{id}` of the run itself or one of its executions: phase, message, times, metrics;
 * - for a pipeline run, the canary deploy (`POST /inference-services`) and the promotion
 *   (`POST /inference-services/{cluster}/{ns}/{name}/promote`) of the InferenceServices its steps
 *   name, in the run's cluster and namespace, of the run's model.
 *
 * Anything else with a run token is a 403 (a route it may not use) or a 401 (an unknown or
 * expired token). Requests without one are left to Backstage's auth (the routes above are
 * declared `unauthenticated` to the httpRouter only so that a run token reaches this check; for
 * every other token this middleware asks httpAuth exactly as the httpRouter would have).
 */
import type {
  AuthService,
  BackstageCredentials,
  HttpAuthService,
} from '@backstage/backend-plugin-api';
import { AuthenticationError, NotAllowedError } from '@backstage/errors';
import type { Run } from '@kubeai/plugin-kubeai-common';
import type { RequestHandler } from 'express';
import {
  RUN_CREDENTIAL_PREFIX,
  type RunCredentialStore,
  type RunIdentity,
} from '../../database/RunCredentialStore';
import { normalizeRef } from '../../refs';

/** The routes (httpRouter path policies) a run credential is sent to. */
export const RUN_CREDENTIAL_PATHS = [
  '/models/:namespace/:name/versions',
  '/datasets/:namespace/:name/versions',
  '/runs/:id',
  '/inference-services',
] as const;

/** A request made with a run credential: the run, and who the handlers act as. */
export interface RunCaller {
  identity: RunIdentity;
  run: Run;
  /** The portal's own service credentials, used for catalog reads and cluster writes. */
  credentials: BackstageCredentials;
}

/** What a run may report about itself with `PATCH /runs/{id}`. */
const RUN_REPORT_FIELDS = new Set([
  'phase',
  'message',
  'startedAt',
  'finishedAt',
  'metrics',
]);

const segment = '([^/]+)';
const ROUTES = {
  modelVersions: new RegExp(`^/models/${segment}/${segment}/versions/?$`),
  datasetVersions: new RegExp(`^/datasets/${segment}/${segment}/versions/?$`),
  run: new RegExp(`^/runs/${segment}/?$`),
  deploy: /^\/inference-services\/?$/,
  promote: new RegExp(
    `^/inference-services/${segment}/${segment}/${segment}/promote/?$`,
  ),
};

function bearerOf(req: { headers: Record<string, unknown> }) {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

const decode = (value: string) => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/**
 * Why a run may not make this request (a 403 message), or undefined when it may. May fill in the
 * body's `runId` of a version registration. `body` is not validated yet (the OpenAPI validator
 * comes after): only the fields decided on are read.
 */
export function runCredentialRefusal(
  caller: Pick<RunCaller, 'identity' | 'run'>,
  method: string,
  path: string,
  body: Record<string, unknown> | undefined,
): string | undefined {
  const { identity, run } = caller;
  const bodyOf = body && typeof body === 'object' ? body : {};
  const who = `the credential of run ${identity.runId}`;
  const on = (verb: string, route: RegExp) =>
    method === verb ? route.exec(path) : null;
  let m = on('POST', ROUTES.modelVersions);
  if (m) {
    const modelRef = normalizeRef(`model:${decode(m[1])}/${decode(m[2])}`);
    const models = [
      ...(identity.modelRef ? [identity.modelRef] : []),
      ...(identity.scope.models ?? []),
    ].map(normalizeRef);
    if (!models.includes(modelRef)) {
      return `${who} registers versions of ${
        models.join(', ') || 'no model'
      } only, not of ${modelRef}`;
    }
    if (bodyOf.runId === undefined) {
      bodyOf.runId = identity.runId;
    } else if (bodyOf.runId !== identity.runId) {
      return `request/body/runId: ${who} registers versions of that run only`;
    }
    return undefined;
  }
  m = on('POST', ROUTES.datasetVersions);
  if (m) {
    const datasetRef = normalizeRef(`dataset:${decode(m[1])}/${decode(m[2])}`);
    const reads = run.inputs.some(
      i => normalizeRef(i.datasetRef) === datasetRef,
    );
    return reads
      ? undefined
      : `${who} records versions of the datasets the run reads only (${
          run.inputs.map(i => i.datasetRef).join(', ') || 'none'
        }), not of ${datasetRef}`;
  }
  m = on('PATCH', ROUTES.run);
  if (m) {
    if (decode(m[1]) !== identity.runId) {
      return `${who} reports on that run only`;
    }
    const extra = Object.keys(bodyOf).filter(k => !RUN_REPORT_FIELDS.has(k));
    return extra.length
      ? `request/body/${extra[0]}: ${who} reports phase, message, startedAt, finishedAt and metrics only`
      : undefined;
  }
  const services = identity.scope.inferenceServices ?? [];
  const rollout = (cluster: unknown, namespace: unknown, name: unknown) => {
    if (cluster !== run.cluster || namespace !== run.namespace) {
      return `${who} rolls out in cluster ${run.cluster}, namespace ${run.namespace} only`;
    }
    if (typeof name !== 'string' || !services.includes(name)) {
      return `${who} rolls out InferenceServices ${
        services.join(', ') || '(none)'
      } only, not ${String(name)}`;
    }
    return undefined;
  };
  if (method === 'POST' && ROUTES.deploy.test(path)) {
    const refused = rollout(bodyOf.cluster, bodyOf.namespace, bodyOf.name);
    if (refused) return refused;
    if (
      !identity.modelRef ||
      typeof bodyOf.model !== 'string' ||
      normalizeRef(bodyOf.model) !== normalizeRef(identity.modelRef)
    ) {
      return `request/body/model: ${who} deploys ${
        identity.modelRef ?? 'no model'
      } only`;
    }
    if (bodyOf.catalogEntity !== undefined || bodyOf.serviceRef !== undefined) {
      // the service's entity is the one its name gives; a run registers no catalog entities
      return `request/body/${
        bodyOf.catalogEntity !== undefined ? 'catalogEntity' : 'serviceRef'
      }: ${who} deploys to the services its pipeline names only`;
    }
    return undefined;
  }
  m = on('POST', ROUTES.promote);
  if (m) {
    return rollout(decode(m[1]), decode(m[2]), decode(m[3]));
  }
  return `${who} may not ${method} ${path}`;
}

/**
 * The middleware (after body parsing, before validation) and the lookup the handlers use
 * (through ./Access.ts) to act for a run.
 */
export class RunCredentials {
  readonly #store: RunCredentialStore;
  readonly #runs: { getRun(id: string): Promise<Run | undefined> };
  readonly #httpAuth: HttpAuthService;
  readonly #auth: AuthService;
  readonly #callers = new WeakMap<object, RunCaller>();
  readonly #byCredentials = new WeakMap<object, RunCaller>();

  constructor(options: {
    store: RunCredentialStore;
    runs: { getRun(id: string): Promise<Run | undefined> };
    httpAuth: HttpAuthService;
    auth: AuthService;
  }) {
    this.#store = options.store;
    this.#runs = options.runs;
    this.#httpAuth = options.httpAuth;
    this.#auth = options.auth;
  }

  /** The run a request acts for, once the middleware accepted its credential. */
  callerOf(req: object): RunCaller | undefined {
    return this.#callers.get(req);
  }

  /** The run whose credential these (request) credentials stand for. */
  callerByCredentials(credentials: object): RunCaller | undefined {
    return this.#byCredentials.get(credentials);
  }

  middleware(): RequestHandler {
    return async (req, _res, next) => {
      try {
        const token = bearerOf(req);
        if (!token?.startsWith(RUN_CREDENTIAL_PREFIX)) {
          // as the httpRouter's own barrier would have (cached per request by httpAuth)
          await this.#httpAuth.credentials(req, { allow: ['user', 'service'] });
          next();
          return;
        }
        const identity = await this.#store.verify(token);
        const run = identity && (await this.#runs.getRun(identity.runId));
        if (!identity || !run) {
          throw new AuthenticationError(
            'the run credential is unknown or has expired',
          );
        }
        // a copy per request: the key by which Access knows it acts for this run
        const credentials = {
          ...(await this.#auth.getOwnServiceCredentials()),
        } as BackstageCredentials;
        const caller: RunCaller = { identity, run, credentials };
        this.#callers.set(req, caller);
        this.#byCredentials.set(credentials, caller);
        const refusal = runCredentialRefusal(
          caller,
          req.method,
          req.path,
          req.body,
        );
        if (refusal) throw new NotAllowedError(refusal);
        next();
      } catch (error) {
        next(error);
      }
    };
  }
}
