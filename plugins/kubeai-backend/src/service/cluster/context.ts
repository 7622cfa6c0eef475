/**
 * The context every cluster route is given and the helpers they share: the cluster of a request,
 * validation with the builders' zod schemas, resolving models, datasets and catalog entities
 * (through {@link Access}), the write result, announcing portal entities. Every write runs through
 * the {@link ClusterWriteFlow} (`flow`): validate → resolve → authorize → apply → record.
 */
import type { ApiRouter } from '@backstage/backend-openapi-utils';
import type {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  kubeaiDatasetVersionCreatePermission,
  TABLE_ENGINES,
  type ClusterObjectRef,
  type ClusterWriteResult,
  type DatasetMount,
  type ModelVersion,
  type RunInput,
} from '@kubeai/plugin-kubeai-common';
import {
  KUBEAI_PORTAL_ENTITY_TOPIC,
  type KubeaiOpenApiSpec,
} from '@kubeai/plugin-kubeai-node';
import type { z } from 'zod';
import type { ClusterGateway } from '../../cluster';
import type { PortalEntity, RegistryStore } from '../../database/RegistryStore';
import { UnprocessableEntityError } from '../../errors';
import {
  parseTableUri,
  partitionVersionName,
  PARTITION_PATTERN,
  tableUri,
  type DatasetMountInput,
  type KubeObject,
  type ModelVersionRef,
  type TableInput,
} from '../../manifests';
import { normalizeRef } from '../../refs';
import type { Access, PermissionCheck } from '../access/Access';
import type { NamespaceDirectory } from '../../tenancy/NamespaceDirectory';
import { ClusterWriteFlow, PartialWriteError } from './ClusterWriteFlow';
import { RunIdentities, type RunCredentialsConfig } from './runIdentities';
import type { PoolRoutingConfig } from './poolRouting';

/** The typed router the cluster routes are registered on (see ../router.ts). */
export type ClusterApi = ApiRouter<KubeaiOpenApiSpec>;

/** The part of the events service the routes use (`eventsServiceRef` of plugin-events-node). */
export interface PortalEntityPublisher {
  publish(params: {
    topic: string;
    eventPayload: unknown;
    metadata?: Record<string, string | string[] | undefined>;
  }): Promise<void>;
}

/** What the plugin gives the cluster routes (see plugin.ts). */
export interface ClusterRoutesOptions {
  /** The cluster gateway; without it every cluster route answers that no cluster is configured. */
  gateway?: ClusterGateway;
  /** Announces portal-created catalog entities (the kubeai entity provider listens). */
  events?: PortalEntityPublisher;
  /** Who owns which namespace (`GET /clusters/{cluster}/namespaces`); else owners are not shown. */
  namespaces?: NamespaceDirectory;
  /** How runs' pods reach the API and how long their credentials last (`kubeai.runCredentials`). */
  runCredentials?: RunCredentialsConfig;
  /** `kubeai.pools.routing` (./poolRouting.ts); unset: queues are not looked up. */
  poolRouting?: PoolRoutingConfig;
}

/** Everything {@link registerClusterRoutes} needs; `access` comes from ./router.ts. */
export interface ClusterRoutesContext extends ClusterRoutesOptions {
  store: RegistryStore;
  access: Access;
  logger: LoggerService;
}

export { PartialWriteError };

/** A permission check of a cluster write (see {@link Access.authorize}). */
export type Check = PermissionCheck;

/** The context of the cluster routes and the helpers they share (closures over `ctx`). */
export function createClusterContext(ctx: ClusterRoutesContext) {
  const { store, access, logger } = ctx;
  const flow = new ClusterWriteFlow({
    access,
    gateway: ctx.gateway,
    logger,
  });

  // ------------------------------------------------------------------ helpers

  const gatewayOf = (): ClusterGateway => flow.gateway();

  /** Run ids, identity and credentials of the runs the routes create (./runIdentities.ts). */
  const runs = new RunIdentities({
    runs: store.runs,
    credentials: store.runCredentials,
    gateway: gatewayOf,
    config: ctx.runCredentials,
    logger,
  });

  /** The cluster of a body (422 naming the field) or of a path (404). */
  function assertCluster(
    cluster: string,
    from: 'body' | 'path',
    at = 'request/body',
  ): ClusterGateway {
    const known = ctx.gateway?.listClusters().map(c => c.name) ?? [];
    if (!known.includes(cluster)) {
      const message = `unknown cluster "${cluster}" (${
        known.length
          ? `configured: ${known.join(', ')}`
          : 'no clusters configured'
      })`;
      throw from === 'body'
        ? new UnprocessableEntityError(`${at}/cluster: ${message}`)
        : new NotFoundError(`request/params/cluster: ${message}`);
    }
    return gatewayOf();
  }

  /** A model ref of the body must be in the catalog (422 naming the field). */
  async function assertModelInCatalog(
    modelRef: string | undefined,
    field: string,
    credentials: BackstageCredentials,
  ) {
    if (!modelRef) return;
    await access.assertInCatalog(credentials, [{ ref: modelRef, field }]);
  }

  /** An entity the portal registers or one the catalog (or the portal's store) already has. */
  async function assertEntityKnown(
    ref: string,
    field: string,
    credentials: BackstageCredentials,
    hint: string,
  ) {
    await access.assertInCatalog(
      credentials,
      [{ ref, field, hint }],
      async known => Boolean(await store.getPortalEntity(known)),
    );
  }

  /** Runs a builder's zod schema; issues become a 400 naming `request/body/<path>`. */
  function zodCheck<S extends z.ZodTypeAny>(
    schema: S,
    input: unknown,
    describe: (path: (string | number)[]) => string = p =>
      ['request/body', ...p].join('/'),
    kindNote = '',
  ): z.output<S> {
    const parsed = schema.safeParse(input);
    if (parsed.success) return parsed.data;
    const messages = parsed.error.issues.flatMap(issue => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map(
          key => `${describe([...issue.path, key])} is not allowed${kindNote}`,
        );
      }
      if (issue.code === 'invalid_union_discriminator') {
        return [`${describe(issue.path)} ${issue.message}`];
      }
      return [`${describe(issue.path)} ${issue.message}`];
    });
    throw new InputError([...new Set(messages)].join(', '));
  }

  /** Mount name of a dataset entity: its name as a DNS label. */
  function mountNameOf(ref: string): string {
    const name = ref.slice(ref.indexOf('/') + 1);
    const label = name
      .toLocaleLowerCase('en-US')
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63)
      .replace(/-+$/, '');
    return label || 'data';
  }

  /**
   * Datasets of a workload: each must be in the catalog (or the portal's store) or have versions
   * in the registry (422 naming `<field>/<i>/datasetRef`); a given version must exist (422 naming
   * `<field>/<i>/version`). Returns builder mounts (the claim from `claimName`, the entity's
   * claim annotation / PVC source / Fluid cache, or the registry's `pvc://` uri) and run inputs.
   * A `table` dataset is an input read by the code: it becomes a builder table input, and the partition read its input version — `reads` lists the versions to
   * register when the run is recorded ({@link recordTableReads}), `checks` the permission to.
   */
  async function resolveDatasets(
    mounts: DatasetMount[] | undefined,
    field: string,
    target: { cluster: string; namespace: string },
    credentials: BackstageCredentials,
  ): Promise<ResolvedDatasets> {
    if (!mounts || mounts.length === 0) {
      return {
        inputs: [],
        reads: [],
        checks: [],
        from: { mounts: [], tables: [] },
      };
    }
    const refs = mounts.map(m => normalizeRef(m.datasetRef));
    const entities = await access.catalogEntities(credentials, refs, [
      'kind',
      'metadata.name',
      'metadata.namespace',
      'metadata.annotations',
      'spec.source',
      'spec.cache',
    ]);
    const out: DatasetMountInput[] = [];
    const tables: TableInput[] = [];
    const inputs: RunInput[] = [];
    const reads: TableRead[] = [];
    const checks: Check[] = [];
    const from: ResolvedDatasets['from'] = { mounts: [], tables: [] };
    for (const [i, mount] of mounts.entries()) {
      const ref = refs[i];
      const at = `${field}/${i}`;
      const entity =
        entities.get(ref) ?? ((await store.getPortalEntity(ref)) as any);
      let version;
      if (mount.version !== undefined) {
        version = await store.getDatasetVersion(ref, mount.version);
        if (!version) {
          throw new UnprocessableEntityError(
            `${at}/version: ${ref} has no version ${mount.version} in the registry`,
          );
        }
      }
      const latest =
        version ??
        (entity
          ? undefined
          : (await store.listDatasetVersions(ref, { limit: 1 })).items[0]);
      if (!entity && !latest) {
        throw new UnprocessableEntityError(
          `${at}/datasetRef: ${ref} not found in the catalog or the registry`,
        );
      }
      const name = mount.name ?? mountNameOf(ref);
      const table = tableOf(ref, entity, latest, `${at}/datasetRef`);
      if (table) {
        const read = await resolveTableRead(ref, mount, table, version, at);
        tables.push({ name, ...read.table });
        from.tables.push(i);
        inputs.push(read.input);
        if (read.register) {
          reads.push({ ...read.register, input: inputs.length - 1 });
          checks.push({
            permission: kubeaiDatasetVersionCreatePermission,
            resourceRef: ref,
          });
        }
        continue;
      }
      if (mount.partition !== undefined || mount.args !== undefined) {
        const key = mount.partition !== undefined ? 'partition' : 'args';
        throw new UnprocessableEntityError(
          `${at}/${key}: ${ref} is not a table dataset (${key} is for tables)`,
        );
      }
      const claimName =
        mount.claimName ??
        claimOf(ref, entity, version ?? latest, target, `${at}/datasetRef`);
      from.mounts.push(i);
      out.push({
        name,
        claimName,
        ...(mount.mountPath ? { mountPath: mount.mountPath } : {}),
        ...(mount.subPath ? { subPath: mount.subPath } : {}),
      });
      inputs.push({
        datasetRef: ref,
        ...(mount.version !== undefined ? { version: mount.version } : {}),
      });
    }
    return {
      ...(out.length ? { mounts: out } : {}),
      ...(tables.length ? { tables } : {}),
      inputs,
      reads,
      checks,
      from,
    };
  }

  /**
   * The table a dataset is (its entity's `table` source, or for a registry-only dataset a table
   * uri of its version); undefined for other datasets and those the portal mounts by annotation.
   */
  function tableOf(
    ref: string,
    entity: Record<string, any> | undefined,
    version: { uri: string } | undefined,
    field: string,
  ): Omit<TableInput, 'name'> | undefined {
    if (entity) {
      if (entity.metadata?.annotations?.['kubeai.io/claim-name'])
        return undefined;
      const source = entity.spec?.source ?? {};
      if (source.type !== 'table') return undefined;
      if (
        !(TABLE_ENGINES as readonly string[]).includes(source.engine) ||
        !source.project ||
        !source.table
      ) {
        throw new UnprocessableEntityError(
          `${field}: ${ref} is a table without engine (${TABLE_ENGINES.join(
            ', ',
          )}), project and table`,
        );
      }
      return {
        engine: source.engine,
        project: String(source.project),
        table: String(source.table),
        // a fixed partition; a scheduled one (`ds=${bizdate}`) is the caller's to give
        ...(typeof source.partition === 'string' &&
        PARTITION_PATTERN.test(source.partition)
          ? { partition: source.partition }
          : {}),
      };
    }
    return version ? parseTableUri(version.uri) : undefined;
  }

  /** The partition a table input reads and the dataset version it is (planned when missing). */
  async function resolveTableRead(
    ref: string,
    mount: DatasetMount,
    base: Omit<TableInput, 'name'>,
    version: { version: string; uri: string } | undefined,
    at: string,
  ) {
    for (const key of ['claimName', 'mountPath', 'subPath'] as const) {
      if (mount[key] !== undefined) {
        throw new UnprocessableEntityError(
          `${at}/${key}: ${ref} is a table; it is read by the code, not mounted`,
        );
      }
    }
    if (mount.partition !== undefined && version) {
      throw new UnprocessableEntityError(
        `${at}/partition: give the partition or the version of ${ref}, not both`,
      );
    }
    const table = compact({
      ...base,
      partition: version
        ? parseTableUri(version.uri)?.partition
        : mount.partition ?? base.partition,
      args: mount.args,
    }) as Omit<TableInput, 'name'>;
    if (version || !table.partition) {
      // a given version, or the whole table (or a partition decided at run time): no version
      return {
        table,
        input: compact({ datasetRef: ref, version: version?.version }),
      };
    }
    const uri = tableUri(table);
    const plan = await store.planDatasetVersion(ref, {
      uri,
      preferred: partitionVersionName(table.partition),
    });
    return {
      table,
      input: { datasetRef: ref, version: plan.version },
      ...(plan.existing
        ? {}
        : {
            register: {
              datasetRef: ref,
              version: plan.version,
              uri,
              description: `Partition ${table.partition} of ${table.engine} table ${table.project}.${table.table}`,
            },
          }),
    };
  }

  /**
   * Registers the partitions a run read that had no version yet and answers its inputs pointing to
   * them. Another request may have taken the planned name meanwhile: the version of the uri, else
   * the next free name, is then planned again.
   */
  async function recordTableReads(
    inputs: RunInput[],
    reads: TableRead[],
    actor: string,
  ): Promise<RunInput[]> {
    const out = [...inputs];
    for (const read of reads) {
      const { input, ...request } = read;
      let registered;
      try {
        registered = await store.ensureDatasetVersion(
          read.datasetRef,
          request,
          actor,
        );
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        const plan = await store.planDatasetVersion(read.datasetRef, {
          uri: read.uri,
        });
        registered = await store.ensureDatasetVersion(
          read.datasetRef,
          { ...request, version: plan.version },
          actor,
        );
      }
      out[input] = {
        datasetRef: read.datasetRef,
        version: registered.datasetVersion.version,
      };
    }
    return out;
  }

  /** The PVC a dataset is mounted from in `target`, or a 422 saying why there is none. */
  function claimOf(
    ref: string,
    entity: Record<string, any> | undefined,
    version: { uri: string } | undefined,
    target: { cluster: string; namespace: string },
    field: string,
  ): string {
    const where = (cluster?: string, namespace?: string) => {
      if (cluster && cluster !== target.cluster) {
        throw new UnprocessableEntityError(
          `${field}: ${ref} is in cluster "${cluster}", not "${target.cluster}"`,
        );
      }
      if (namespace && namespace !== target.namespace) {
        throw new UnprocessableEntityError(
          `${field}: the claim of ${ref} is in namespace "${namespace}", not "${target.namespace}"`,
        );
      }
    };
    if (entity) {
      const annotations = entity.metadata?.annotations ?? {};
      const source = entity.spec?.source ?? {};
      if (annotations['kubeai.io/claim-name']) {
        where(
          annotations['kubeai.io/cluster'],
          annotations['kubeai.io/namespace'],
        );
        return annotations['kubeai.io/claim-name'];
      }
      if (source.type === 'table') {
        throw new UnprocessableEntityError(
          `${field}: ${ref} is a table and cannot be mounted`,
        );
      }
      if (entity.spec?.cache) {
        where(
          annotations['kubeai.io/cluster'],
          annotations['kubeai.io/namespace'],
        );
        return String(entity.metadata.name).toLocaleLowerCase('en-US');
      }
      if (source.type === 'pvc' && source.claimName) {
        where(source.cluster, source.namespace);
        return source.claimName;
      }
    }
    const pvc = /^pvc:\/\/(?:([^/]+)\/)?([^/]+)\/([^/]+)\/?$/.exec(
      version?.uri ?? '',
    );
    if (pvc) {
      where(pvc[1], pvc[2]);
      return pvc[3];
    }
    throw new UnprocessableEntityError(
      `${field}: ${ref} has no claim in the cluster (a ${
        entity?.spec?.source?.type ?? 'registry-only'
      } dataset without cache); give claimName`,
    );
  }

  /** The registry version a selector (number, numeric string or alias) names; 422 otherwise. */
  async function selectModelVersion(
    modelRef: string,
    selector: number | string,
    field: string,
  ): Promise<ModelVersion> {
    const numeric =
      typeof selector === 'number' || /^[0-9]+$/.test(String(selector));
    const version = numeric
      ? await store.getModelVersion(modelRef, Number(selector))
      : await store.getModelVersionByAlias(modelRef, String(selector));
    if (!version) {
      throw new UnprocessableEntityError(
        `${field}: ${modelRef} has no ${numeric ? 'version' : 'alias'} ${
          numeric ? Number(selector) : `'${selector}'`
        }`,
      );
    }
    if (version.state !== 'live') {
      throw new UnprocessableEntityError(
        `${field}: version ${version.version} of ${modelRef} is ${version.state}`,
      );
    }
    return version;
  }

  const versionRefOf = (v: ModelVersion): ModelVersionRef => ({
    version: String(v.version),
    artifact: { uri: v.artifact.uri, format: v.artifact.format },
    ...(v.framework ? { framework: v.framework } : {}),
  });

  const refOf = (cluster: string, object: KubeObject): ClusterObjectRef =>
    compact({
      cluster,
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.metadata.namespace,
      name: object.metadata.name!,
      uid:
        typeof object.metadata.uid === 'string'
          ? object.metadata.uid
          : undefined,
    });

  function result(
    cluster: string,
    built: KubeObject[],
    applied: KubeObject[],
    main: number,
    dryRun: boolean,
    extra: Partial<ClusterWriteResult> & { url: string; message: string },
  ): ClusterWriteResult {
    return {
      dryRun,
      object: refOf(cluster, applied[main] ?? built[main]),
      objects: (applied.length ? applied : built).map(o => refOf(cluster, o)),
      manifests: (dryRun ? applied : built).map(stripServerFields) as any,
      ...extra,
    };
  }

  function modelUrl(modelRef: string | undefined): string {
    if (!modelRef) return '/kubeai';
    const ref = parseEntityRef(modelRef);
    return `/catalog/${ref.namespace}/model/${ref.name}`;
  }

  async function publishEntity(entity: PortalEntity) {
    await announce({ entity }, `${entity.kind} ${entity.metadata.name}`);
  }

  /** Tells the catalog module's provider at once (its scheduled refresh would, minutes later). */
  async function announce(eventPayload: object, what: string) {
    try {
      await ctx.events?.publish({
        topic: KUBEAI_PORTAL_ENTITY_TOPIC,
        eventPayload,
      });
    } catch (error) {
      logger.warn(`kubeai could not announce ${what}: ${error}`);
    }
  }

  return {
    ...ctx,
    flow,
    runs,
    gatewayOf,
    assertCluster,
    assertModelInCatalog,
    assertEntityKnown,
    zodCheck,
    resolveDatasets,
    recordTableReads,
    selectModelVersion,
    versionRefOf,
    refOf,
    result,
    modelUrl,
    publishEntity,
    announce,
  };
}

/** A partition a run reads that is not a dataset version yet; `input` is its index in the run's inputs. */
export interface TableRead {
  datasetRef: string;
  version: string;
  uri: string;
  description: string;
  input: number;
}

/** The datasets of a workload, resolved (see `resolveDatasets`). */
export interface ResolvedDatasets {
  mounts?: DatasetMountInput[];
  tables?: TableInput[];
  inputs: RunInput[];
  reads: TableRead[];
  checks: Check[];
  /** The request's index of each mount and table (they are split, so a builder's index is not it). */
  from: { mounts: number[]; tables: number[] };
}

/**
 * A builder issue's path in the request: `datasets/<j>` and `tables/<j>` of the builder input are
 * `datasets/<i>` of the request.
 */
export function requestPathOf(
  path: (string | number)[],
  from: ResolvedDatasets['from'],
): (string | number)[] {
  const [key, j, ...rest] = path;
  if ((key === 'datasets' || key === 'tables') && typeof j === 'number') {
    return [
      'datasets',
      from[key === 'datasets' ? 'mounts' : 'tables'][j] ?? j,
      ...rest,
    ];
  }
  return path;
}

/** What every `register…Routes` of ./ is given: {@link createClusterContext}. */
export type ClusterContext = ReturnType<typeof createClusterContext>;

// -------------------------------------------------------------------- pure helpers

export function compact<T extends Record<string, unknown>>(
  value: T,
): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/** Server-set metadata dropped from what the routes return. */
export function stripServerFields(object: KubeObject): KubeObject {
  const metadata = { ...object.metadata };
  delete metadata.managedFields;
  return { ...object, metadata };
}
