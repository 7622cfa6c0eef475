import { createValidatedOpenApiRouter } from '@backstage/backend-openapi-utils';
import {
  AuditorService,
  AuthService,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  clusterNamespaceRef,
  kubeaiDatasetVersionCreatePermission,
  kubeaiDeploymentCreatePermission,
  kubeaiDeploymentUpdatePermission,
  kubeaiModelVersionCreatePermission,
  kubeaiModelVersionUpdatePermission,
  kubeaiRunCreatePermission,
  kubeaiRunUpdatePermission,
  RunInput,
} from '@kubeai/plugin-kubeai-common';
import {
  kubeaiOpenApiSpec,
  type KubeaiOpenApiSpec,
} from '@kubeai/plugin-kubeai-node';
import express, { ErrorRequestHandler, RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import Router from 'express-promise-router';
import { RegistryStore } from '../database/RegistryStore';
import { PayloadTooLargeError } from '../errors';
import { entityRefOf, normalizeRef } from '../refs';
import { Access } from './access/Access';
import { RunCredentials } from './access/RunCredentials';
import { registerAuditRoutes } from './audit/auditRoutes';
import { AuditTrail } from './audit/AuditTrail';
import { ClusterRoutesOptions, registerClusterRoutes } from './clusterRoutes';
import { registerImpactRoutes } from './impactRoutes';
import type { CostStore } from '../cost/CostStore';
import { registerCostRoutes } from '../cost/costRoutes';
import { registerLineageRoutes } from './lineageRoutes';
import {
  ObservedRoutesOptions,
  registerObservedRoutes,
} from './observedRoutes';

/**
 * The validator's own messages say `request/body must NOT have additional properties` without the
 * property; its error object knows the path (`/body/extra`). This error handler, right after the
 * request validator, builds the message from those paths.
 */
const nameFieldsInValidationErrors: ErrorRequestHandler = (
  error,
  _req,
  _res,
  next,
) => {
  const details: { path?: unknown; message?: unknown }[] | undefined =
    error?.errors;
  const named =
    Array.isArray(details) &&
    details.length > 0 &&
    details.every(d => typeof d.path === 'string' && d.path.startsWith('/'));
  next(
    new InputError(
      named
        ? details.map(d => `request${d.path} ${d.message}`).join(', ')
        : error?.message,
    ),
  );
};

/** Default largest request body. */
export const DEFAULT_MAX_BODY_SIZE = '1mb';

/**
 * Deepest nesting of objects and arrays accepted in a request body. `JSON.parse` takes any depth
 * (a 1 MB body can nest 200,000 deep) but `JSON.stringify` — storing, answering, logging — throws
 * at a few thousand: a 500. The deepest real body (a pipeline step's training replica resources)
 * nests 6 deep.
 */
export const MAX_BODY_DEPTH = 64;

/** @public */
export interface RouterOptions {
  store: RegistryStore;
  httpAuth: HttpAuthService;
  auth: AuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  logger: LoggerService;
  /** Largest accepted JSON body (`1mb`, `500kb`, …); default {@link DEFAULT_MAX_BODY_SIZE}. */
  maxBodySize?: string;
  /**
   * Memory for serialized lineage answers, reused until the next registry write
   * ({@link LineageCache}); default {@link DEFAULT_LINEAGE_CACHE_BYTES}, 0 turns it off.
   */
  lineageCacheBytes?: number;
  /** Also validate responses against the spec (a 500 on mismatch); for tests and development. */
  validateResponses?: boolean;
  /** The cluster gateway and events of the cluster routes (./clusterRoutes.ts). */
  cluster?: ClusterRoutesOptions;
  /** The cluster informers of the observed-state routes (./observedRoutes.ts). */
  observed?: ObservedRoutesOptions;
  /** Backstage's auditor service, told of every write (./audit/AuditTrail.ts). */
  auditor?: AuditorService;
  /** The audit trail of the writes; by default one over `store.audit` and `auditor`. */
  audit?: AuditTrail;
  /** Costs and budgets (../cost): `GET /cost`, the run's `cost`, the budget gate of new tasks. */
  cost?: CostStore;
}

/** Default memory for serialized lineage answers: 64 MiB. */
export const DEFAULT_LINEAGE_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * The KubeAI registry routes, validated and typed by `src/schema/openapi.yaml` (served at
 * `/openapi.json`). Every route needs a user or service principal; every change is authorized
 * before anything is written.
 *
 * @public
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { store, httpAuth, auth, permissions, catalog } = options;
  const maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;

  const runCredentials = new RunCredentials({
    store: store.runCredentials,
    runs: store.runs,
    httpAuth,
    auth,
  });
  const access = new Access({
    httpAuth,
    auth,
    permissions,
    catalog,
    runCredentials,
  });

  const router = Router();

  // Every write is audited, refused ones included: first, so that it sees them all.
  const audit =
    options.audit ??
    new AuditTrail({
      store: store.audit,
      logger: options.logger,
      auditor: options.auditor,
    });
  router.use(
    audit.middleware(async req =>
      access.actorOf(await access.credentials(req)),
    ),
  );

  // Body parsing with a size limit, before the OpenAPI validator; errors name the body.
  router.use(express.json({ limit: maxBodySize }));
  const bodyErrors: ErrorRequestHandler = (error, _req, _res, next) => {
    if (error?.type === 'entity.too.large') {
      next(
        new PayloadTooLargeError(
          `request/body is larger than the limit of ${maxBodySize}`,
        ),
      );
    } else if (error?.type === 'entity.parse.failed') {
      next(new InputError(`request/body is not valid JSON: ${error.message}`));
    } else {
      next(error);
    }
  };
  router.use(bodyErrors);
  const requireJsonBody: RequestHandler = (req, _res, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(req.method) && !req.is('json')) {
      next(
        new InputError(
          'request/body is required, as JSON (Content-Type: application/json)',
        ),
      );
      return;
    }
    next();
  };
  router.use(requireJsonBody);
  const limitBodyDepth: RequestHandler = (req, _res, next) => {
    const tooDeep = pathDeeperThan(req.body, MAX_BODY_DEPTH);
    if (tooDeep) {
      next(
        new InputError(
          `request/body${tooDeep} is nested more than ${MAX_BODY_DEPTH} levels deep`,
        ),
      );
      return;
    }
    next();
  };
  router.use(limitBodyDepth);
  // Run-scoped credentials: what a run's pods may do, decided before anything else reads the body.
  router.use(runCredentials.middleware());

  // Requests are validated by the router's own middleware slot (the body is parsed above, with
  // the size limit), followed by an error handler that names the fields; the router's validator
  // then validates responses only, and its error transformer keeps our InputError's message.
  const validateRequests = express.Router();
  validateRequests.use(
    OpenApiValidator.middleware({
      apiSpec: kubeaiOpenApiSpec as never,
      validateRequests: {
        coerceTypes: false,
        allowUnknownQueryParameters: false,
      },
      useRequestUrl: true,
      ignoreUndocumented: true,
      validateResponses: false,
    }),
    nameFieldsInValidationErrors,
  );
  const api = createValidatedOpenApiRouter<KubeaiOpenApiSpec>(
    kubeaiOpenApiSpec,
    {
      middleware: [validateRequests],
      validatorOptions: {
        validateRequests: false,
        validateResponses: options.validateResponses ?? false,
      },
    },
  );
  router.use(api);

  // ---------------------------------------------------------------- model versions

  api.post('/models/:namespace/:name/versions', async (req, res) => {
    const credentials = await access.credentials(req);
    const modelRef = entityRefOf(
      'model',
      req.params.namespace,
      req.params.name,
    );
    await access.assertInCatalog(credentials, [{ ref: modelRef }]);
    await access.authorize(credentials, [
      { permission: kubeaiModelVersionCreatePermission, resourceRef: modelRef },
    ]);
    const created = await store.createModelVersion(
      modelRef,
      req.body,
      access.actorOf(credentials),
    );
    res.status(201).json(created);
  });

  api.get('/models/:namespace/:name/versions', async (req, res) => {
    const credentials = await access.credentials(req);
    const modelRef = entityRefOf(
      'model',
      req.params.namespace,
      req.params.name,
    );
    const list = await store.listModelVersions(modelRef, req.query);
    if (list.totalItems === 0) {
      await access.assertInCatalog(credentials, [{ ref: modelRef }]);
    }
    res.json(list);
  });

  api.get('/models/:namespace/:name/versions/:version', async (req, res) => {
    const modelRef = entityRefOf(
      'model',
      req.params.namespace,
      req.params.name,
    );
    const version = Number(req.params.version);
    const item = await store.getModelVersion(modelRef, version);
    if (!item) {
      throw new NotFoundError(`${modelRef} has no version ${version}`);
    }
    res.json(item);
  });

  api.patch('/models/:namespace/:name/versions/:version', async (req, res) => {
    const credentials = await access.credentials(req);
    const modelRef = entityRefOf(
      'model',
      req.params.namespace,
      req.params.name,
    );
    const version = Number(req.params.version);
    if (!(await store.getModelVersion(modelRef, version))) {
      throw new NotFoundError(`${modelRef} has no version ${version}`);
    }
    await access.authorize(credentials, [
      { permission: kubeaiModelVersionUpdatePermission, resourceRef: modelRef },
    ]);
    res.json(
      await store.updateModelVersion(
        modelRef,
        version,
        req.body,
        access.actorOf(credentials),
      ),
    );
  });

  api.get(
    '/models/:namespace/:name/versions/by-alias/:alias',
    async (req, res) => {
      const modelRef = entityRefOf(
        'model',
        req.params.namespace,
        req.params.name,
      );
      const item = await store.getModelVersionByAlias(
        modelRef,
        req.params.alias,
      );
      if (!item) {
        throw new NotFoundError(
          `request/params/alias: ${modelRef} has no alias '${req.params.alias}'`,
        );
      }
      res.json(item);
    },
  );

  api.get('/models/:namespace/:name/deployments', async (req, res) => {
    const credentials = await access.credentials(req);
    const modelRef = entityRefOf(
      'model',
      req.params.namespace,
      req.params.name,
    );
    const list = await store.listDeployments({ model: modelRef, limit: 1000 });
    if (list.totalItems === 0) {
      await access.assertInCatalog(credentials, [{ ref: modelRef }]);
    }
    res.json(list);
  });

  // ---------------------------------------------------------------- runs

  const inputRefs = (inputs: RunInput[] | undefined) =>
    (inputs ?? []).map((input, i) => ({
      ref: input.datasetRef,
      field: `request/body/inputs/${i}/datasetRef`,
    }));

  api.post('/runs', async (req, res) => {
    const credentials = await access.credentials(req);
    await access.assertInCatalog(credentials, [
      ...(req.body.modelRef
        ? [{ ref: req.body.modelRef, field: 'request/body/modelRef' }]
        : []),
      ...inputRefs(req.body.inputs),
    ]);
    // a run is decided by its place: the namespace it names
    await access.authorize(credentials, [
      {
        permission: kubeaiRunCreatePermission,
        resourceRef: clusterNamespaceRef(req.body.cluster, req.body.namespace),
      },
    ]);
    res
      .status(201)
      .json(await store.createRun(req.body, access.actorOf(credentials)));
  });

  api.get('/runs', async (req, res) => {
    res.json(await store.listRuns(req.query));
  });

  api.get('/runs/:id', async (req, res) => {
    const run = await store.getRun(req.params.id);
    if (!run) {
      throw new NotFoundError(`run ${req.params.id} not found`);
    }
    const cost = await options.cost?.ofRun(run.id);
    res.json(cost ? { ...run, cost } : run);
  });

  api.patch('/runs/:id', async (req, res) => {
    const credentials = await access.credentials(req);
    const run = await store.getRun(req.params.id);
    if (!run) {
      throw new NotFoundError(`run ${req.params.id} not found`);
    }
    await access.assertInCatalog(credentials, inputRefs(req.body.inputs));
    // the stored run's namespace (a PATCH cannot move a run)
    await access.authorize(credentials, [
      {
        permission: kubeaiRunUpdatePermission,
        resourceRef: clusterNamespaceRef(run.cluster, run.namespace),
      },
    ]);
    res.json(await store.updateRun(req.params.id, req.body));
  });

  // ---------------------------------------------------------------- dataset versions

  api.post('/datasets/:namespace/:name/versions', async (req, res) => {
    const credentials = await access.credentials(req);
    const datasetRef = entityRefOf(
      'dataset',
      req.params.namespace,
      req.params.name,
    );
    await access.assertInCatalog(credentials, [{ ref: datasetRef }]);
    await access.authorize(credentials, [
      {
        permission: kubeaiDatasetVersionCreatePermission,
        resourceRef: datasetRef,
      },
    ]);
    const { datasetVersion, created } = await store.registerDatasetVersion(
      datasetRef,
      req.body,
      access.actorOf(credentials),
    );
    // a run recording what it read: that version is the run's input
    const run = access.runCallerOf(credentials);
    if (run) {
      await store.runs.recordInputVersion(
        run.identity.runId,
        datasetRef,
        datasetVersion.version,
      );
    }
    // an existing version with the same digest: nothing registered
    res.status(created ? 201 : 200).json(datasetVersion);
  });

  api.get('/datasets/:namespace/:name/versions', async (req, res) => {
    const credentials = await access.credentials(req);
    const datasetRef = entityRefOf(
      'dataset',
      req.params.namespace,
      req.params.name,
    );
    const list = await store.listDatasetVersions(datasetRef, req.query);
    if (list.totalItems === 0) {
      await access.assertInCatalog(credentials, [{ ref: datasetRef }]);
    }
    res.json(list);
  });

  api.get('/datasets/:namespace/:name/versions/:version', async (req, res) => {
    const datasetRef = entityRefOf(
      'dataset',
      req.params.namespace,
      req.params.name,
    );
    const item = await store.getDatasetVersion(datasetRef, req.params.version);
    if (!item) {
      throw new NotFoundError(
        `${datasetRef} has no version ${req.params.version}`,
      );
    }
    res.json(item);
  });

  // ---------------------------------------------------------------- deployments

  api.get('/deployments', async (req, res) => {
    if (req.query.version !== undefined && !req.query.model) {
      throw new InputError('request/query/version needs request/query/model');
    }
    res.json(await store.listDeployments(req.query));
  });

  api.post('/deployments', async (req, res) => {
    const credentials = await access.credentials(req);
    const serviceRef = normalizeRef(req.body.serviceRef);
    await access.assertInCatalog(credentials, [
      { ref: serviceRef, field: 'request/body/serviceRef' },
      { ref: req.body.modelRef, field: 'request/body/modelRef' },
    ]);
    await access.authorize(credentials, [
      { permission: kubeaiDeploymentCreatePermission, resourceRef: serviceRef },
    ]);
    res
      .status(201)
      .json(
        await store.createDeployment(req.body, access.actorOf(credentials)),
      );
  });

  api.get('/deployments/:namespace/:name', async (req, res) => {
    const serviceRef = entityRefOf(
      'inferenceservice',
      req.params.namespace,
      req.params.name,
    );
    const item = await store.getDeployment(serviceRef);
    if (!item) {
      throw new NotFoundError(`${serviceRef} has no deployment`);
    }
    res.json(item);
  });

  api.patch('/deployments/:namespace/:name', async (req, res) => {
    const credentials = await access.credentials(req);
    const serviceRef = entityRefOf(
      'inferenceservice',
      req.params.namespace,
      req.params.name,
    );
    if (!(await store.getDeployment(serviceRef))) {
      throw new NotFoundError(`${serviceRef} has no deployment`);
    }
    if (req.body.modelRef) {
      await access.assertInCatalog(credentials, [
        { ref: req.body.modelRef, field: 'request/body/modelRef' },
      ]);
    }
    await access.authorize(credentials, [
      { permission: kubeaiDeploymentUpdatePermission, resourceRef: serviceRef },
    ]);
    res.json(
      await store.updateDeployment(
        serviceRef,
        req.body,
        access.actorOf(credentials),
      ),
    );
  });

  api.get('/deployments/:namespace/:name/revisions', async (req, res) => {
    const serviceRef = entityRefOf(
      'inferenceservice',
      req.params.namespace,
      req.params.name,
    );
    const list = await store.listDeploymentRevisions(serviceRef, req.query);
    if (!list) {
      throw new NotFoundError(`${serviceRef} has no deployment`);
    }
    res.json(list);
  });

  // ---------------------------------------------------------------- lineage
  registerLineageRoutes(api, {
    store,
    access,
    cacheBytes: options.lineageCacheBytes ?? DEFAULT_LINEAGE_CACHE_BYTES,
    validateResponses: options.validateResponses ?? false,
  }); // GET /lineage (./lineageRoutes.ts)
  registerImpactRoutes(api, { store, access }); // GET /impact (./impactRoutes.ts)

  // ---------------------------------------------------------------- audit trail
  registerAuditRoutes(api, { store: store.audit, trail: audit });

  // ---------------------------------------------------------------- cost (before the cluster
  // routes: its budget gate runs ahead of POST /jobs, /jobs/batch, /pipelines, /notebooks)
  if (options.cost) registerCostRoutes(api, { cost: options.cost, access });

  // ---------------------------------------------------------------- cluster objects
  registerClusterRoutes(api, {
    ...options.cluster,
    store,
    access,
    logger: options.logger,
  });

  // ---------------------------------------------------------------- observed state
  registerObservedRoutes(api, {
    ...options.observed,
    store,
    access,
    logger: options.logger,
    gateway: options.cluster?.gateway ?? options.observed?.informers?.gateway,
  });

  // last: the error of an audited request, for its event (then on to the error handler)
  router.use(audit.captureErrors());

  return router;
}

/**
 * The path (`/desired/a/a/…`) of the first object or array nested deeper than `max` levels, or
 * undefined. Iterative: a recursive walk would overflow the stack on the bodies it refuses.
 */
export function pathDeeperThan(body: unknown, max: number): string | undefined {
  const stack: { value: unknown; path: string[] }[] = [
    { value: body, path: [] },
  ];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= max) {
      return path.map(key => `/${key}`).join('');
    }
    for (const [key, child] of Object.entries(value)) {
      if (child !== null && typeof child === 'object') {
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return undefined;
}
