import { ResponseError } from '@backstage/errors';
import type {
  ClusterObjectName,
  EntityName,
  KubeaiApi,
  KubeaiRequestOptions,
} from './KubeaiApi';
import type {
  ClusterSyncStatusList,
  CreateDatasetVersionRequest,
  CreateDeploymentRequest,
  CreateModelVersionRequest,
  CreateRunRequest,
  DatasetVersion,
  DatasetVersionList,
  Deployment,
  DeploymentList,
  DeploymentRevisionList,
  GetLineageQuery,
  GetRunLogsQuery,
  LineageGraph,
  ListDatasetVersionsQuery,
  ListDeploymentRevisionsQuery,
  ListDeploymentsQuery,
  ListModelVersionsQuery,
  ListObservedObjectsQuery,
  ListRunsQuery,
  ModelVersion,
  ModelVersionList,
  ObservedObjectList,
  Run,
  RunList,
  UpdateDeploymentRequest,
  UpdateModelVersionRequest,
  UpdateRunRequest,
  ClusterList,
  ClusterObjectStatus,
  ClusterWriteResult,
  ClusterDeleteResult,
  CreateDatasetRequest,
  CreateJobRequest,
  CreateJobsRequest,
  ClusterBatchWriteResult,
  CreateNotebookRequest,
  CreatePipelineRequest,
  DeleteDatasetQuery,
  DeleteInferenceServiceQuery,
  DeleteJobQuery,
  DeleteNotebookQuery,
  DeletePipelineQuery,
  DeployInferenceServiceRequest,
  GetJobStatusQuery,
  ListPortalEntitiesQuery,
  NamespaceList,
  PortalEntityList,
  PromoteInferenceServiceRequest,
  RollbackInferenceServiceRequest,
} from './types.generated';

/** The part of Backstage's `DiscoveryApi` / `DiscoveryService` the client needs. */
export interface KubeaiDiscoveryApi {
  getBaseUrl(pluginId: string): Promise<string>;
}

/** The part of Backstage's `FetchApi` the client needs (the global `fetch` fits too). */
export interface KubeaiFetchApi {
  fetch: typeof fetch;
}

/** Options of {@link KubeaiClient}. */
export interface KubeaiClientOptions {
  discoveryApi: KubeaiDiscoveryApi;
  /** Defaults to the global `fetch`. */
  fetchApi?: KubeaiFetchApi;
}

type Query = Record<string, string | number | boolean | undefined>;

/**
 * Typed client of the KubeAI API, for the frontend (`discoveryApi`, `fetchApi` from the app) and for
 * backends (`discovery` service, global fetch, and `options.token` per call).
 */
export class KubeaiClient implements KubeaiApi {
  readonly #discoveryApi: KubeaiDiscoveryApi;
  readonly #fetchApi: KubeaiFetchApi;

  constructor(options: KubeaiClientOptions) {
    this.#discoveryApi = options.discoveryApi;
    this.#fetchApi = options.fetchApi ?? { fetch: (...a) => fetch(...a) };
  }

  createModelVersion(
    model: EntityName,
    request: CreateModelVersionRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ModelVersion> {
    return this.#call(
      'POST',
      `/models/${path(model)}/versions`,
      { body: request },
      options,
    );
  }

  listModelVersions(
    model: EntityName,
    query?: ListModelVersionsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ModelVersionList> {
    return this.#call(
      'GET',
      `/models/${path(model)}/versions`,
      { query: query as Query },
      options,
    );
  }

  getModelVersion(
    model: EntityName,
    version: number,
    options?: KubeaiRequestOptions,
  ): Promise<ModelVersion> {
    return this.#call(
      'GET',
      `/models/${path(model)}/versions/${version}`,
      {},
      options,
    );
  }

  updateModelVersion(
    model: EntityName,
    version: number,
    request: UpdateModelVersionRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ModelVersion> {
    return this.#call(
      'PATCH',
      `/models/${path(model)}/versions/${version}`,
      { body: request },
      options,
    );
  }

  getModelVersionByAlias(
    model: EntityName,
    alias: string,
    options?: KubeaiRequestOptions,
  ): Promise<ModelVersion> {
    return this.#call(
      'GET',
      `/models/${path(model)}/versions/by-alias/${encodeURIComponent(alias)}`,
      {},
      options,
    );
  }

  listModelDeployments(
    model: EntityName,
    options?: KubeaiRequestOptions,
  ): Promise<DeploymentList> {
    return this.#call('GET', `/models/${path(model)}/deployments`, {}, options);
  }

  createRun(
    request: CreateRunRequest,
    options?: KubeaiRequestOptions,
  ): Promise<Run> {
    return this.#call('POST', '/runs', { body: request }, options);
  }

  listRuns(
    query?: ListRunsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<RunList> {
    return this.#call('GET', '/runs', { query: query as Query }, options);
  }

  getRun(id: string, options?: KubeaiRequestOptions): Promise<Run> {
    return this.#call('GET', `/runs/${encodeURIComponent(id)}`, {}, options);
  }

  updateRun(
    id: string,
    request: UpdateRunRequest,
    options?: KubeaiRequestOptions,
  ): Promise<Run> {
    return this.#call(
      'PATCH',
      `/runs/${encodeURIComponent(id)}`,
      { body: request },
      options,
    );
  }

  createDatasetVersion(
    dataset: EntityName,
    request: CreateDatasetVersionRequest,
    options?: KubeaiRequestOptions,
  ): Promise<DatasetVersion> {
    return this.#call(
      'POST',
      `/datasets/${path(dataset)}/versions`,
      { body: request },
      options,
    );
  }

  listDatasetVersions(
    dataset: EntityName,
    query?: ListDatasetVersionsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<DatasetVersionList> {
    return this.#call(
      'GET',
      `/datasets/${path(dataset)}/versions`,
      { query: query as Query },
      options,
    );
  }

  getDatasetVersion(
    dataset: EntityName,
    version: string,
    options?: KubeaiRequestOptions,
  ): Promise<DatasetVersion> {
    return this.#call(
      'GET',
      `/datasets/${path(dataset)}/versions/${encodeURIComponent(version)}`,
      {},
      options,
    );
  }

  listDeployments(
    query?: ListDeploymentsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<DeploymentList> {
    return this.#call(
      'GET',
      '/deployments',
      { query: query as Query },
      options,
    );
  }

  createDeployment(
    request: CreateDeploymentRequest,
    options?: KubeaiRequestOptions,
  ): Promise<Deployment> {
    return this.#call('POST', '/deployments', { body: request }, options);
  }

  getDeployment(
    service: EntityName,
    options?: KubeaiRequestOptions,
  ): Promise<Deployment> {
    return this.#call('GET', `/deployments/${path(service)}`, {}, options);
  }

  updateDeployment(
    service: EntityName,
    request: UpdateDeploymentRequest,
    options?: KubeaiRequestOptions,
  ): Promise<Deployment> {
    return this.#call(
      'PATCH',
      `/deployments/${path(service)}`,
      { body: request },
      options,
    );
  }

  listDeploymentRevisions(
    service: EntityName,
    query?: ListDeploymentRevisionsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<DeploymentRevisionList> {
    return this.#call(
      'GET',
      `/deployments/${path(service)}/revisions`,
      { query: query as Query },
      options,
    );
  }

  getLineage(
    query: GetLineageQuery,
    options?: KubeaiRequestOptions,
  ): Promise<LineageGraph> {
    return this.#call('GET', '/lineage', { query: query as Query }, options);
  }

  // ---- clusters

  listClusters(options?: KubeaiRequestOptions): Promise<ClusterList> {
    return this.#call('GET', '/clusters', {}, options);
  }

  listNamespaces(
    cluster: string,
    options?: KubeaiRequestOptions,
  ): Promise<NamespaceList> {
    return this.#call(
      'GET',
      `/clusters/${encodeURIComponent(cluster)}/namespaces`,
      {},
      options,
    );
  }

  createNotebook(
    request: CreateNotebookRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult> {
    return this.#call('POST', '/notebooks', { body: request }, options);
  }

  createJob(
    request: CreateJobRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult> {
    return this.#call('POST', '/jobs', { body: request }, options);
  }

  createJobs(
    request: CreateJobsRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterBatchWriteResult> {
    return this.#call('POST', '/jobs/batch', { body: request }, options);
  }

  createDataset(
    request: CreateDatasetRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult> {
    return this.#call('POST', '/datasets', { body: request }, options);
  }

  deployInferenceService(
    request: DeployInferenceServiceRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult> {
    return this.#call(
      'POST',
      '/inference-services',
      { body: request },
      options,
    );
  }

  promoteInferenceService(
    target: ClusterObjectName,
    request: PromoteInferenceServiceRequest = {},
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult> {
    return this.#call(
      'POST',
      `/inference-services/${objectPath(target)}/promote`,
      { body: request },
      options,
    );
  }

  rollbackInferenceService(
    target: ClusterObjectName,
    request: RollbackInferenceServiceRequest = {},
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult> {
    return this.#call(
      'POST',
      `/inference-services/${objectPath(target)}/rollback`,
      { body: request },
      options,
    );
  }

  createPipeline(
    request: CreatePipelineRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult> {
    return this.#call('POST', '/pipelines', { body: request }, options);
  }

  getNotebookStatus(
    target: ClusterObjectName,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterObjectStatus> {
    return this.#call('GET', statusPath(target, 'notebooks'), {}, options);
  }

  getJobStatus(
    target: ClusterObjectName,
    query?: GetJobStatusQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterObjectStatus> {
    return this.#call(
      'GET',
      statusPath(target, 'jobs'),
      { query: query as Query },
      options,
    );
  }

  getDatasetStatus(
    target: ClusterObjectName,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterObjectStatus> {
    return this.#call('GET', statusPath(target, 'datasets'), {}, options);
  }

  getInferenceServiceStatus(
    target: ClusterObjectName,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterObjectStatus> {
    return this.#call(
      'GET',
      statusPath(target, 'inference-services'),
      {},
      options,
    );
  }

  getPipelineStatus(
    target: ClusterObjectName,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterObjectStatus> {
    return this.#call('GET', statusPath(target, 'pipelines'), {}, options);
  }

  deleteNotebook(
    target: ClusterObjectName,
    query?: DeleteNotebookQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterDeleteResult> {
    return this.#call(
      'DELETE',
      statusPath(target, 'notebooks'),
      { query: query as Query },
      options,
    );
  }

  deleteJob(
    target: ClusterObjectName,
    query?: DeleteJobQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterDeleteResult> {
    return this.#call(
      'DELETE',
      statusPath(target, 'jobs'),
      { query: query as Query },
      options,
    );
  }

  deleteDataset(
    target: ClusterObjectName,
    query?: DeleteDatasetQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterDeleteResult> {
    return this.#call(
      'DELETE',
      statusPath(target, 'datasets'),
      { query: query as Query },
      options,
    );
  }

  deleteInferenceService(
    target: ClusterObjectName,
    query?: DeleteInferenceServiceQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterDeleteResult> {
    return this.#call(
      'DELETE',
      statusPath(target, 'inference-services'),
      { query: query as Query },
      options,
    );
  }

  deletePipeline(
    target: ClusterObjectName,
    query?: DeletePipelineQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterDeleteResult> {
    return this.#call(
      'DELETE',
      statusPath(target, 'pipelines'),
      { query: query as Query },
      options,
    );
  }

  listPortalEntities(
    query?: ListPortalEntitiesQuery,
    options?: KubeaiRequestOptions,
  ): Promise<PortalEntityList> {
    return this.#call(
      'GET',
      '/catalog-entities',
      { query: query as Query },
      options,
    );
  }

  // ------------------------------------------------------------------ observed state

  getClustersStatus(
    options?: KubeaiRequestOptions,
  ): Promise<ClusterSyncStatusList> {
    return this.#call('GET', '/clusters/status', {}, options);
  }

  listObservedObjects(
    query?: ListObservedObjectsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ObservedObjectList> {
    return this.#call(
      'GET',
      '/observed/objects',
      { query: query as Query },
      options,
    );
  }

  async getRunLogs(
    id: string,
    query?: Omit<GetRunLogsQuery, 'follow'>,
    options?: KubeaiRequestOptions,
  ): Promise<string> {
    const response = await this.#fetch(
      'GET',
      `/runs/${encodeURIComponent(id)}/logs`,
      { query: query as Query },
      options,
    );
    return response.text();
  }

  async followRunLogs(
    id: string,
    query?: Omit<GetRunLogsQuery, 'follow'>,
    options?: KubeaiRequestOptions & { signal?: AbortSignal },
  ): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#fetch(
      'GET',
      `/runs/${encodeURIComponent(id)}/logs`,
      { query: { ...(query as Query), follow: true } },
      options,
    );
    if (!response.body) {
      throw new Error('the logs response has no body');
    }
    return response.body;
  }

  async #call<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    route: string,
    request: { body?: unknown; query?: Query },
    options?: KubeaiRequestOptions,
  ): Promise<T> {
    const response = await this.#fetch(method, route, request, options);
    return (await response.json()) as T;
  }

  /** The response of a request; a ResponseError (status, the server's message) when not ok. */
  async #fetch(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    route: string,
    request: { body?: unknown; query?: Query },
    options?: KubeaiRequestOptions & { signal?: AbortSignal },
  ): Promise<Response> {
    const baseUrl = await this.#discoveryApi.getBaseUrl('kubeai');
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) params.append(key, String(value));
    }
    const search = params.toString();
    const headers: Record<string, string> = {};
    if (request.body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    if (options?.token) {
      headers.Authorization = `Bearer ${options.token}`;
    }
    const response = await this.#fetchApi.fetch(
      `${baseUrl}${route}${search ? `?${search}` : ''}`,
      {
        method,
        headers,
        body:
          request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: options?.signal,
      },
    );
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return response;
  }
}

function path(entity: EntityName): string {
  return `${encodeURIComponent(entity.namespace)}/${encodeURIComponent(
    entity.name,
  )}`;
}

/** `{cluster}/{namespace}/{name}`, encoded. */
function objectPath(target: ClusterObjectName): string {
  return [target.cluster, target.namespace, target.name]
    .map(encodeURIComponent)
    .join('/');
}

/** `/clusters/{cluster}/namespaces/{namespace}/{kind}/{name}`, encoded. */
function statusPath(target: ClusterObjectName, kind: string): string {
  return `/clusters/${encodeURIComponent(
    target.cluster,
  )}/namespaces/${encodeURIComponent(
    target.namespace,
  )}/${kind}/${encodeURIComponent(target.name)}`;
}
