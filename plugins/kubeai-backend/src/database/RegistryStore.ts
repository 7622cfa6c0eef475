import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { AuditStore } from './AuditStore';
import { RegistryChanges } from './changes';
import { InformerCursorStore } from './InformerCursorStore';
import { DatasetVersionStore } from './DatasetVersionStore';
import { DeploymentStore } from './DeploymentStore';
import { LineageStore } from './LineageStore';
import { ModelVersionStore } from './ModelVersionStore';
import { ObservedStore } from './observed/ObservedStore';
import { PortalEntityStore } from './PortalEntityStore';
import { RunCredentialStore } from './RunCredentialStore';
import { RunStore } from './RunStore';

export { LATEST_ALIAS, modelVersionFromRow } from './ModelVersionStore';
export type { ModelVersionRow } from './ModelVersionStore';
export type { RunRow } from './RunStore';
export type { DatasetVersionRow } from './DatasetVersionStore';
export type { DeploymentRow } from './DeploymentStore';
export type { PortalEntity } from './PortalEntityStore';
export type { Page } from './util';

const migrationsDir = resolvePackagePath(
  '@kubeai/plugin-kubeai-backend',
  'migrations',
);

/**
 * The KubeAI registry: owns every `kubeai_*` table. All writes are single transactions, so a failed
 * request writes nothing. Refs given to it are normalized to lower case.
 *
 * A facade over one store per aggregate (model versions, runs, dataset versions, deployments,
 * portal entities, observed state, lineage), which share one knex instance and its change token;
 * the stores are public for code that needs only one of them.
 *
 * @public
 */
export class RegistryStore {
  readonly #changes: RegistryChanges;
  readonly modelVersions: ModelVersionStore;
  readonly runs: RunStore;
  readonly datasetVersions: DatasetVersionStore;
  readonly deployments: DeploymentStore;
  readonly portalEntities: PortalEntityStore;
  readonly observed: ObservedStore;
  readonly lineages: LineageStore;
  /** The audit trail: not a registry write (it does not change the change token). */
  readonly audit: AuditStore;
  /** Run-scoped credentials (hashes): not registry writes either. */
  readonly runCredentials: RunCredentialStore;
  /** Where each cluster's informers stopped (informer leader election): not registry writes. */
  readonly informerCursors: InformerCursorStore;

  /** Applies the migrations (unless `skipMigrations`) and returns the store. */
  static async create(options: {
    database: DatabaseService;
    skipMigrations?: boolean;
  }): Promise<RegistryStore> {
    const client = await options.database.getClient();
    if (!options.database.migrations?.skip && !options.skipMigrations) {
      await RegistryStore.migrate(client);
    }
    return new RegistryStore(client);
  }

  static async migrate(knex: Knex): Promise<void> {
    await knex.migrate.latest({
      directory: migrationsDir,
      tableName: 'kubeai__knex_migrations',
    });
  }

  constructor(knex: Knex) {
    this.#changes = RegistryChanges.of(knex);
    const db = this.#changes.trackWrites();
    this.modelVersions = new ModelVersionStore(db);
    this.runs = new RunStore(db);
    this.datasetVersions = new DatasetVersionStore(db);
    this.deployments = new DeploymentStore(db);
    this.portalEntities = new PortalEntityStore(db);
    this.observed = new ObservedStore(db);
    this.lineages = new LineageStore(db);
    this.audit = new AuditStore(knex);
    this.runCredentials = new RunCredentialStore(knex);
    this.informerCursors = new InformerCursorStore(knex);
  }

  /**
   * A token that changes with every committed registry write (of any replica, on PostgreSQL):
   * answers computed under one token stay valid while it does not change.
   */
  async changeToken(): Promise<string> {
    return this.#changes.token();
  }

  /** The change tracker: per-scope versions of the registry (database/changes.ts). */
  get changes(): RegistryChanges {
    return this.#changes;
  }

  // ------------------------------------------------------------------ model versions

  createModelVersion(
    ...a: Parameters<ModelVersionStore['createModelVersion']>
  ) {
    return this.modelVersions.createModelVersion(...a);
  }
  getModelVersion(...a: Parameters<ModelVersionStore['getModelVersion']>) {
    return this.modelVersions.getModelVersion(...a);
  }
  getModelVersionByAlias(
    ...a: Parameters<ModelVersionStore['getModelVersionByAlias']>
  ) {
    return this.modelVersions.getModelVersionByAlias(...a);
  }
  listModelVersions(...a: Parameters<ModelVersionStore['listModelVersions']>) {
    return this.modelVersions.listModelVersions(...a);
  }
  updateModelVersion(
    ...a: Parameters<ModelVersionStore['updateModelVersion']>
  ) {
    return this.modelVersions.updateModelVersion(...a);
  }

  // ------------------------------------------------------------------ runs

  createRun(...a: Parameters<RunStore['createRun']>) {
    return this.runs.createRun(...a);
  }
  getRun(...a: Parameters<RunStore['getRun']>) {
    return this.runs.getRun(...a);
  }
  listRuns(...a: Parameters<RunStore['listRuns']>) {
    return this.runs.listRuns(...a);
  }
  updateRun(...a: Parameters<RunStore['updateRun']>) {
    return this.runs.updateRun(...a);
  }
  upsertObjectRun(...a: Parameters<RunStore['upsertObjectRun']>) {
    return this.runs.upsertObjectRun(...a);
  }
  upsertObjectRuns(...a: Parameters<RunStore['upsertObjectRuns']>) {
    return this.runs.upsertObjectRuns(...a);
  }
  findObjectRun(...a: Parameters<RunStore['findObjectRun']>) {
    return this.runs.findObjectRun(...a);
  }

  // ------------------------------------------------------------------ dataset versions

  createDatasetVersion(
    ...a: Parameters<DatasetVersionStore['createDatasetVersion']>
  ) {
    return this.datasetVersions.createDatasetVersion(...a);
  }

  registerDatasetVersion(
    ...a: Parameters<DatasetVersionStore['registerDatasetVersion']>
  ) {
    return this.datasetVersions.registerDatasetVersion(...a);
  }
  getDatasetVersion(
    ...a: Parameters<DatasetVersionStore['getDatasetVersion']>
  ) {
    return this.datasetVersions.getDatasetVersion(...a);
  }
  listDatasetVersions(
    ...a: Parameters<DatasetVersionStore['listDatasetVersions']>
  ) {
    return this.datasetVersions.listDatasetVersions(...a);
  }
  planDatasetVersion(
    ...a: Parameters<DatasetVersionStore['planDatasetVersion']>
  ) {
    return this.datasetVersions.planDatasetVersion(...a);
  }
  ensureDatasetVersion(
    ...a: Parameters<DatasetVersionStore['ensureDatasetVersion']>
  ) {
    return this.datasetVersions.ensureDatasetVersion(...a);
  }

  // ------------------------------------------------------------------ deployments

  createDeployment(...a: Parameters<DeploymentStore['createDeployment']>) {
    return this.deployments.createDeployment(...a);
  }
  updateDeployment(...a: Parameters<DeploymentStore['updateDeployment']>) {
    return this.deployments.updateDeployment(...a);
  }
  setObserved(...a: Parameters<DeploymentStore['setObserved']>) {
    return this.deployments.setObserved(...a);
  }
  getDeployment(...a: Parameters<DeploymentStore['getDeployment']>) {
    return this.deployments.getDeployment(...a);
  }
  listDeployments(...a: Parameters<DeploymentStore['listDeployments']>) {
    return this.deployments.listDeployments(...a);
  }
  listDeploymentRevisions(
    ...a: Parameters<DeploymentStore['listDeploymentRevisions']>
  ) {
    return this.deployments.listDeploymentRevisions(...a);
  }
  findDeploymentByObject(
    ...a: Parameters<DeploymentStore['findDeploymentByObject']>
  ) {
    return this.deployments.findDeploymentByObject(...a);
  }

  // ------------------------------------------------------------------ portal entities

  upsertPortalEntity(
    ...a: Parameters<PortalEntityStore['upsertPortalEntity']>
  ) {
    return this.portalEntities.upsertPortalEntity(...a);
  }
  getPortalEntity(...a: Parameters<PortalEntityStore['getPortalEntity']>) {
    return this.portalEntities.getPortalEntity(...a);
  }
  listPortalEntities(
    ...a: Parameters<PortalEntityStore['listPortalEntities']>
  ) {
    return this.portalEntities.listPortalEntities(...a);
  }
  deletePortalEntity(
    ...a: Parameters<PortalEntityStore['deletePortalEntity']>
  ) {
    return this.portalEntities.deletePortalEntity(...a);
  }

  // ------------------------------------------------------------------ lineage

  lineage(...a: Parameters<LineageStore['lineage']>) {
    return this.lineages.lineage(...a);
  }
  hasRegistryData(...a: Parameters<LineageStore['hasRegistryData']>) {
    return this.lineages.hasRegistryData(...a);
  }
  lineageWithObserved(...a: Parameters<LineageStore['lineageWithObserved']>) {
    return this.lineages.lineageWithObserved(...a);
  }
  lineageNodeDetails(...a: Parameters<LineageStore['lineageNodeDetails']>) {
    return this.lineages.lineageNodeDetails(...a);
  }

  // ------------------------------------------------------------------ observed state
  // (the cluster informers of src/informers and src/service/observedRoutes.ts)

  applyObservations(...a: Parameters<ObservedStore['applyObservations']>) {
    return this.observed.applyObservations(...a);
  }
  missingObservedObjects(
    ...a: Parameters<ObservedStore['missingObservedObjects']>
  ) {
    return this.observed.missingObservedObjects(...a);
  }
  markMissingDeployments(
    ...a: Parameters<ObservedStore['markMissingDeployments']>
  ) {
    return this.observed.markMissingDeployments(...a);
  }
  reconcileDeployments(
    ...a: Parameters<ObservedStore['reconcileDeployments']>
  ) {
    return this.observed.reconcileDeployments(...a);
  }
  listObservedObjects(...a: Parameters<ObservedStore['listObservedObjects']>) {
    return this.observed.listObservedObjects(...a);
  }
  countObservedObjects() {
    return this.observed.countObservedObjects();
  }
  observedObjectsOfRun(
    ...a: Parameters<ObservedStore['observedObjectsOfRun']>
  ) {
    return this.observed.observedObjectsOfRun(...a);
  }
}
