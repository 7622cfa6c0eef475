import type { KubeaiObservedApi } from './observed';
import type {
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
  LineageGraph,
  ListDatasetVersionsQuery,
  ListDeploymentRevisionsQuery,
  ListDeploymentsQuery,
  ListModelVersionsQuery,
  ListRunsQuery,
  ModelVersion,
  ModelVersionList,
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

/**
 * Per-call options. `token` is sent as `Authorization: Bearer <token>` — for backend callers
 * (e.g. a scaffolder action calling on behalf of the user); frontend callers leave it out and let
 * the FetchApi add the user's token.
 */
export interface KubeaiRequestOptions {
  token?: string;
}

/**
 * The KubeAI registry and lineage API (`/api/kubeai`). Each method is one route of the OpenAPI spec
 * (`plugins/kubeai-backend/src/schema/openapi.yaml`); errors are thrown as `ResponseError` of
 * `@backstage/errors` (with `statusCode` and the server's message).
 *
 * Models, datasets and inference services are named by their catalog entity: `{ namespace, name }`
 * for path parameters, or an entity ref `kind:namespace/name` in bodies and queries.
 */
export interface KubeaiApi extends KubeaiObservedApi {
  /** `POST /models/{namespace}/{name}/versions` — the next version number is assigned. */
  createModelVersion(
    model: EntityName,
    request: CreateModelVersionRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ModelVersion>;
  /** `GET /models/{namespace}/{name}/versions`, newest first. */
  listModelVersions(
    model: EntityName,
    query?: ListModelVersionsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ModelVersionList>;
  /** `GET /models/{namespace}/{name}/versions/{version}`. */
  getModelVersion(
    model: EntityName,
    version: number,
    options?: KubeaiRequestOptions,
  ): Promise<ModelVersion>;
  /** `PATCH /models/{namespace}/{name}/versions/{version}` — aliases, state, tags, description. */
  updateModelVersion(
    model: EntityName,
    version: number,
    request: UpdateModelVersionRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ModelVersion>;
  /** `GET /models/{namespace}/{name}/versions/by-alias/{alias}` (`latest`: newest live version). */
  getModelVersionByAlias(
    model: EntityName,
    alias: string,
    options?: KubeaiRequestOptions,
  ): Promise<ModelVersion>;
  /** `GET /models/{namespace}/{name}/deployments` — which services serve which versions. */
  listModelDeployments(
    model: EntityName,
    options?: KubeaiRequestOptions,
  ): Promise<DeploymentList>;

  /** `POST /runs`. */
  createRun(
    request: CreateRunRequest,
    options?: KubeaiRequestOptions,
  ): Promise<Run>;
  /** `GET /runs`. */
  listRuns(
    query?: ListRunsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<RunList>;
  /** `GET /runs/{id}`. */
  getRun(id: string, options?: KubeaiRequestOptions): Promise<Run>;
  /** `PATCH /runs/{id}`. */
  updateRun(
    id: string,
    request: UpdateRunRequest,
    options?: KubeaiRequestOptions,
  ): Promise<Run>;

  /** `POST /datasets/{namespace}/{name}/versions`. */
  createDatasetVersion(
    dataset: EntityName,
    request: CreateDatasetVersionRequest,
    options?: KubeaiRequestOptions,
  ): Promise<DatasetVersion>;
  /** `GET /datasets/{namespace}/{name}/versions`. */
  listDatasetVersions(
    dataset: EntityName,
    query?: ListDatasetVersionsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<DatasetVersionList>;
  /** `GET /datasets/{namespace}/{name}/versions/{version}`. */
  getDatasetVersion(
    dataset: EntityName,
    version: string,
    options?: KubeaiRequestOptions,
  ): Promise<DatasetVersion>;

  /** `GET /deployments` (filters `model`, `version`, `service`). */
  listDeployments(
    query?: ListDeploymentsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<DeploymentList>;
  /** `POST /deployments`. */
  createDeployment(
    request: CreateDeploymentRequest,
    options?: KubeaiRequestOptions,
  ): Promise<Deployment>;
  /** `GET /deployments/{namespace}/{name}` (the InferenceService entity's name). */
  getDeployment(
    service: EntityName,
    options?: KubeaiRequestOptions,
  ): Promise<Deployment>;
  /** `PATCH /deployments/{namespace}/{name}` — a new revision. */
  updateDeployment(
    service: EntityName,
    request: UpdateDeploymentRequest,
    options?: KubeaiRequestOptions,
  ): Promise<Deployment>;
  /** `GET /deployments/{namespace}/{name}/revisions`, newest first. */
  listDeploymentRevisions(
    service: EntityName,
    query?: ListDeploymentRevisionsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<DeploymentRevisionList>;

  /** `GET /lineage`. */
  getLineage(
    query: GetLineageQuery,
    options?: KubeaiRequestOptions,
  ): Promise<LineageGraph>;

  // ---- clusters: what the portal creates in clusters (every write takes `dryRun`)

  /** `GET /clusters` — names and API server URLs (never credentials). */
  listClusters(options?: KubeaiRequestOptions): Promise<ClusterList>;
  /** `GET /clusters/{cluster}/namespaces`. */
  listNamespaces(
    cluster: string,
    options?: KubeaiRequestOptions,
  ): Promise<NamespaceList>;
  /** `POST /notebooks` — a Kubeflow Notebook (and workspace PVC); records a run. */
  createNotebook(
    request: CreateNotebookRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult>;
  /** `POST /jobs` — a training kind of the workload table (`TRAINING_WORKLOAD_KINDS`); records a run. */
  createJob(
    request: CreateJobRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult>;
  /**
   * `POST /jobs/batch` — up to 1,000 training tasks in one request (all validated before any is
   * applied; per-item results, 207 when the cluster refused some).
   */
  createJobs(
    request: CreateJobsRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterBatchWriteResult>;
  /** `POST /datasets` — PVC or Fluid Dataset; records a dataset version (and registers the entity). */
  createDataset(
    request: CreateDatasetRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult>;
  /** `POST /inference-services` — deploy a model version (new, full rollout or canary). */
  deployInferenceService(
    request: DeployInferenceServiceRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult>;
  /** `POST /inference-services/{cluster}/{namespace}/{name}/promote` — the canary gets 100 %. */
  promoteInferenceService(
    target: ClusterObjectName,
    request?: PromoteInferenceServiceRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult>;
  /** `POST /inference-services/{cluster}/{namespace}/{name}/rollback` — back to the stable version. */
  rollbackInferenceService(
    target: ClusterObjectName,
    request?: RollbackInferenceServiceRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult>;
  /** `POST /pipelines` — an Argo Workflow or CronWorkflow; records a run. */
  createPipeline(
    request: CreatePipelineRequest,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterWriteResult>;
  /** `GET /clusters/{cluster}/namespaces/{namespace}/notebooks/{name}`. */
  getNotebookStatus(
    target: ClusterObjectName,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterObjectStatus>;
  /** `GET /clusters/{cluster}/namespaces/{namespace}/jobs/{name}` (`kind` found when omitted). */
  getJobStatus(
    target: ClusterObjectName,
    query?: GetJobStatusQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterObjectStatus>;
  /** `GET /clusters/{cluster}/namespaces/{namespace}/datasets/{name}`. */
  getDatasetStatus(
    target: ClusterObjectName,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterObjectStatus>;
  /** `GET /clusters/{cluster}/namespaces/{namespace}/inference-services/{name}`. */
  getInferenceServiceStatus(
    target: ClusterObjectName,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterObjectStatus>;
  /** `GET /clusters/{cluster}/namespaces/{namespace}/pipelines/{name}`. */
  getPipelineStatus(
    target: ClusterObjectName,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterObjectStatus>;
  /**
   * `DELETE /clusters/{cluster}/namespaces/{namespace}/notebooks/{name}` — the Notebook and its
   * workspace PVC; an unfinished run is marked `Stopped`. `dryRun` deletes nothing.
   */
  deleteNotebook(
    target: ClusterObjectName,
    query?: DeleteNotebookQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterDeleteResult>;
  /**
   * `DELETE /clusters/{cluster}/namespaces/{namespace}/jobs/{name}` (`kind` found when omitted) —
   * the training task and its PodGroup; an unfinished run is marked `Stopped`.
   */
  deleteJob(
    target: ClusterObjectName,
    query?: DeleteJobQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterDeleteResult>;
  /**
   * `DELETE /clusters/{cluster}/namespaces/{namespace}/datasets/{name}` — the Fluid Dataset and
   * runtime, or the PVC; the portal's Dataset entity is removed (versions stay).
   */
  deleteDataset(
    target: ClusterObjectName,
    query?: DeleteDatasetQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterDeleteResult>;
  /**
   * `DELETE /clusters/{cluster}/namespaces/{namespace}/inference-services/{name}` — the
   * InferenceService; the portal's entity is removed (the deployment history stays).
   */
  deleteInferenceService(
    target: ClusterObjectName,
    query?: DeleteInferenceServiceQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterDeleteResult>;
  /**
   * `DELETE /clusters/{cluster}/namespaces/{namespace}/pipelines/{name}` — the Workflow or
   * CronWorkflow; an unfinished run is marked `Stopped`.
   */
  deletePipeline(
    target: ClusterObjectName,
    query?: DeletePipelineQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ClusterDeleteResult>;
  /** `GET /catalog-entities` — the catalog entities created through the portal. */
  listPortalEntities(
    query?: ListPortalEntitiesQuery,
    options?: KubeaiRequestOptions,
  ): Promise<PortalEntityList>;
}

/** A Kubernetes object in a cluster known to the portal. */
export interface ClusterObjectName {
  cluster: string;
  namespace: string;
  name: string;
}

/** The namespace and name of a catalog entity (a `CompoundEntityRef` without the kind fits). */
export interface EntityName {
  namespace: string;
  name: string;
}
