/**
 * What the status reads (`GET /clusters/{cluster}/namespaces/{namespace}/<kind>/{name}`) and the
 * deletes (`DELETE` on the same paths) of every resource share: reading the object, its status
 * and run, and deleting what a create route applied with it (only objects KubeAI manages; a dry
 * run of every delete first; then the run is stopped and the portal entity removed).
 */
import { namespaceChecks, type PermissionCheck } from '../access/Access';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { Response } from 'express';
import { NotFoundError, ConflictError } from '@backstage/errors';
import { catalogEntityDeletePermission } from '@backstage/plugin-catalog-common/alpha';
import {
  clusterKindSpec,
  clusterNamespaceRef,
  kubeaiClusterObjectDeletePermission,
  kubeaiDeploymentUpdatePermission,
  kubeaiRunUpdatePermission,
  KUBEAI_MANAGER,
  preferredApiVersion,
  type ClusterKind,
  type ClusterObjectStatus,
  type Deployment,
  type Run,
  type WorkloadStatusParser,
} from '@kubeai/plugin-kubeai-common';
import type { PortalEntity } from '../../database/RegistryStore';
import { RUN_DELETED_FROM_PORTAL } from '../../informers/observe';
import {
  KUBEAI_ANNOTATIONS,
  KUBEAI_LABELS,
  type KubeObject,
} from '../../manifests';
import { normalizeRef } from '../../refs';
import { noteAudit } from '../audit/AuditTrail';
import { type ClusterContext, compact } from './context';

/** Run phases a deletion does not change (the run had already ended). */
const FINISHED_RUN_PHASES = new Set(['Succeeded', 'Failed', 'Stopped']);

/** The status and delete helpers of the cluster routes (closures over `ctx`). */
export function createObjectHelpers(ctx: ClusterContext) {
  const { store, flow, gatewayOf, assertCluster, refOf, announce } = ctx;

  // ------------------------------------------------------------------ status

  /** Reads the first of `candidates` that exists (404 naming the object when none does). */
  async function readFirst(
    params: { cluster: string; namespace: string; name: string },
    label: string,
    candidates: Array<() => Promise<{ apiVersion: string; kind: string }>>,
  ): Promise<KubeObject> {
    const gateway = assertCluster(params.cluster, 'path');
    for (const candidate of candidates) {
      let ref: { apiVersion: string; kind: string };
      try {
        ref = await candidate();
      } catch (error) {
        if ((error as Error)?.name === 'NotFoundError') continue; // kind not served
        throw error;
      }
      try {
        const object = await gateway.get(params.cluster, {
          ...ref,
          namespace: params.namespace,
          name: params.name,
        });
        return { ...object, apiVersion: ref.apiVersion, kind: ref.kind };
      } catch (error) {
        if ((error as Error)?.name !== 'NotFoundError') throw error;
      }
    }
    throw new NotFoundError(
      `${label} "${params.name}" not found in namespace "${params.namespace}" of cluster "${params.cluster}"`,
    );
  }

  const fixed = (apiVersion: string, kind: string) => async () => ({
    apiVersion,
    kind,
  });
  /** A kind of the workload table, in its preferred apiVersion. */
  const preferred = (kind: ClusterKind) =>
    fixed(preferredApiVersion(kind), kind);
  async function statusOf(
    cluster: string,
    object: KubeObject,
    extra: { run?: Run; deployment?: Deployment },
  ): Promise<ClusterObjectStatus> {
    const { phase, message } = phaseOf(object);
    return {
      object: refOf(cluster, object),
      phase,
      ...(message ? { message } : {}),
      ...(typeof object.metadata.creationTimestamp === 'string'
        ? { createdAt: object.metadata.creationTimestamp }
        : {}),
      labels: object.metadata.labels ?? {},
      spec: (object.spec as Record<string, unknown>) ?? {},
      status: (object.status as Record<string, unknown>) ?? {},
      ...(extra.run ? { run: extra.run } : {}),
      ...(extra.deployment ? { deployment: extra.deployment } : {}),
    };
  }

  const runOf = (cluster: string, object: KubeObject) =>
    store.findObjectRun(
      cluster,
      object.metadata.namespace!,
      object.metadata.name!,
      String(object.metadata.uid),
    );

  // ------------------------------------------------------------------ delete

  /** Reads an object, or undefined when it (or its kind, in this cluster) does not exist. */
  async function readOptional(
    cluster: string,
    ref: { group: string; version: string; kind: string },
    namespace: string,
    name: string,
  ): Promise<KubeObject | undefined> {
    try {
      const apiVersion = await gatewayOf().resolveApiVersion(
        cluster,
        ref.group,
        ref.kind,
        [ref.version],
      );
      const object = await gatewayOf().get(cluster, {
        apiVersion,
        kind: ref.kind,
        namespace,
        name,
      });
      return { ...object, apiVersion, kind: ref.kind };
    } catch (error) {
      if ((error as Error)?.name === 'NotFoundError') return undefined;
      throw error;
    }
  }

  /**
   * The companions of an object that exist (the workload table's `companions`: a PodGroup, a
   * notebook's workspace PVC, a Fluid runtime, …), for {@link deleteManaged}'s `related`.
   */
  async function companionsOf(
    cluster: string,
    object: KubeObject,
  ): Promise<KubeObject[]> {
    const found: KubeObject[] = [];
    for (const companion of clusterKindSpec(object.kind)?.companions ?? []) {
      const name = `${object.metadata.name}${companion.nameSuffix}`;
      if (companion.onlyIfMounted && !mountsClaim(object, name)) continue;
      const related = await readOptional(
        cluster,
        companion,
        object.metadata.namespace!,
        name,
      );
      if (related) found.push(related);
    }
    return found;
  }

  const isManaged = (object: KubeObject) =>
    object.metadata.labels?.[KUBEAI_LABELS.managedBy] === KUBEAI_MANAGER;

  const describeObject = (cluster: string, object: KubeObject) =>
    `${object.kind} ${object.metadata.namespace}/${object.metadata.name} in cluster ${cluster}`;

  /**
   * Deletes what a create route applied for one object: `main` (the object of the path) and the
   * `related` objects KubeAI manages (others are left alone). 409 when `main` is not managed by
   * KubeAI; a dry run of every delete first, so a refused one leaves everything in place; then
   * the deletes (background propagation), main first; then the registry: the run (unless already
   * finished) is marked `Stopped`, the portal entity removed.
   *
   * Decided on every place it changes: the namespaces, the run's namespace, and the entities it
   * ends — `serviceRef` (the InferenceService entity whose deployment goes: the deployment update
   * permission) and `entityRef` (the portal entity removed: the catalog's entity delete), so a
   * team cannot delete another team's service from a namespace it may write to.
   */
  async function deleteManaged(
    req: {
      params: { cluster: string; namespace: string; name: string };
      res?: Response;
    },
    credentials: BackstageCredentials,
    dryRun: boolean,
    main: KubeObject,
    options: {
      related?: KubeObject[];
      run?: Run;
      /** The portal entity this delete removes. */
      entityRef?: string;
      deployment?: Deployment;
      /** The InferenceService entity whose deployment this delete ends. */
      serviceRef?: string;
    },
  ) {
    const { cluster } = req.params;
    if (!isManaged(main)) {
      throw new ConflictError(
        `${describeObject(cluster, main)} is not managed by KubeAI (no label ${
          KUBEAI_LABELS.managedBy
        }: ${KUBEAI_MANAGER}); delete it in the cluster`,
      );
    }
    const objects = [main, ...(options.related ?? []).filter(isManaged)];
    // what the delete concerns, for its audit event (a denied one included)
    noteAudit(req.res, {
      entityRefs: [
        options.entityRef,
        options.deployment?.serviceRef,
        main.metadata.annotations?.[KUBEAI_ANNOTATIONS.entityRef],
      ],
      runIds: [options.run?.id],
    });
    const run =
      options.run && !FINISHED_RUN_PHASES.has(options.run.phase)
        ? options.run
        : undefined;
    let recordedRun = options.run;
    let removedEntityRef: string | undefined;
    const portalEntityToRemove = async () =>
      options.entityRef && (await store.getPortalEntity(options.entityRef))
        ? normalizeRef(options.entityRef)
        : undefined;
    const { gone } = await flow.delete(credentials, dryRun, {
      cluster,
      objects,
      checks: [
        ...namespaceChecks(
          kubeaiClusterObjectDeletePermission,
          cluster,
          objects,
        ),
        ...(run
          ? [
              {
                permission: kubeaiRunUpdatePermission,
                resourceRef: clusterNamespaceRef(run.cluster, run.namespace),
              },
            ]
          : []),
        ...entityChecks(options),
      ],
      record: async (_gone, actor) => {
        removedEntityRef = await portalEntityToRemove();
        // the run's pods are going: its credential stops working now, and its Secret (the
        // portal's own object, which the caller's team may not be allowed to touch) goes too
        const runId = run?.id ?? main.metadata.labels?.[KUBEAI_LABELS.run];
        if (runId) await ctx.runs.revoke(runId);
        if (run) {
          recordedRun = await store.updateRun(run.id, {
            phase: 'Stopped',
            reason: RUN_DELETED_FROM_PORTAL,
            message: `${main.kind} ${main.metadata.namespace}/${main.metadata.name} deleted from the portal by ${actor}`,
            finishedAt: new Date().toISOString(),
          });
        }
        if (removedEntityRef) {
          await store.deletePortalEntity(removedEntityRef);
          await announce({ removedEntityRef }, removedEntityRef);
        }
      },
    });
    if (dryRun) removedEntityRef = await portalEntityToRemove();
    const extras = [
      run ? 'run stopped' : undefined,
      removedEntityRef ? `${removedEntityRef} removed` : undefined,
    ].filter(Boolean);
    return compact({
      dryRun,
      object: refOf(cluster, main),
      deleted: gone.map(o => refOf(cluster, o)),
      run: recordedRun,
      deployment: options.deployment,
      removedEntityRef,
      message: `${dryRun ? 'Would delete' : 'Deleted'} ${gone
        .map(o => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)
        .join(', ')} in cluster ${cluster}${
        extras.length ? ` (${extras.join(', ')})` : ''
      }`,
    });
  }

  /**
   * The entity checks of a delete. `newEntity`: an entity the catalog does not have (not yet
   * processed, or gone) has no owner to decide on, so the namespace checks decide alone — else a
   * service whose entity was removed from the catalog could never be deleted.
   */
  function entityChecks(options: {
    entityRef?: string;
    serviceRef?: string;
  }): PermissionCheck[] {
    return [
      ...(options.serviceRef
        ? [
            {
              permission: kubeaiDeploymentUpdatePermission,
              resourceRef: normalizeRef(options.serviceRef),
              newEntity: true,
            },
          ]
        : []),
      ...(options.entityRef
        ? [
            {
              permission: catalogEntityDeletePermission,
              resourceRef: normalizeRef(options.entityRef),
              newEntity: true,
            },
          ]
        : []),
    ];
  }

  /** The portal entity of an object: its `kubeai.io/entity-ref` annotation or a given ref. */
  async function portalEntityOf(
    refs: Array<string | undefined>,
    owns: (entity: PortalEntity) => boolean,
  ): Promise<string | undefined> {
    for (const ref of refs) {
      if (!ref) continue;
      const entity = await store.getPortalEntity(ref);
      if (entity && owns(entity)) return normalizeRef(ref);
    }
    return undefined;
  }

  return {
    readFirst,
    fixed,
    preferred,
    statusOf,
    runOf,
    readOptional,
    companionsOf,
    isManaged,
    describeObject,
    deleteManaged,
    portalEntityOf,
  };
}

/** Whether the object's pod template (`spec.template.spec.volumes`) mounts the claim `claimName`. */
function mountsClaim(object: KubeObject, claimName: string): boolean {
  return (((object.spec as any)?.template?.spec?.volumes ?? []) as any[]).some(
    v => v?.persistentVolumeClaim?.claimName === claimName,
  );
}

type Phase = { phase: string; message?: string };

/** The phase of an object, per status parser of the workload table. */
const PHASES: Record<
  WorkloadStatusParser,
  (
    status: Record<string, any>,
    spec: Record<string, any>,
    trueCondition: (type: string) => Record<string, any> | undefined,
    conditions: Array<Record<string, any>>,
  ) => Phase
> = {
  notebook: status =>
    (status.readyReplicas ?? 0) > 0
      ? { phase: 'Running' }
      : {
          phase: 'Pending',
          message: status.containerState
            ? JSON.stringify(status.containerState)
            : undefined,
        },
  job: (status, _spec, trueCondition) => {
    const failed = trueCondition('Failed');
    if (trueCondition('Complete')) return { phase: 'Succeeded' };
    if (failed) return { phase: 'Failed', message: failed.message };
    return { phase: (status.active ?? 0) > 0 ? 'Running' : 'Pending' };
  },
  schedule: (status, spec) => ({
    phase: spec.suspend ? 'Suspended' : 'Scheduled',
    message: status.lastScheduleTime
      ? `last scheduled ${status.lastScheduleTime}`
      : undefined,
  }),
  trainingOperator: (_status, _spec, trueCondition) =>
    trainingConditionsPhase(trueCondition),
  trainJob: (_status, _spec, trueCondition) =>
    trainingConditionsPhase(trueCondition),
  inferenceService: (_status, _spec, _trueCondition, conditions) => {
    const ready = conditions.find(c => c.type === 'Ready');
    if (ready?.status === 'True') return { phase: 'Ready' };
    return { phase: ready ? 'NotReady' : 'Pending', message: ready?.message };
  },
  workflow: status => ({
    phase: status.phase ?? 'Pending',
    message: status.message,
  }),
  fluidDataset: status => ({ phase: status.phase ?? 'Pending' }),
  persistentVolumeClaim: status => ({ phase: status.phase ?? 'Pending' }),
  // Kueue's objects (observed only): the admission state, whether the queue is active
  kueueWorkload: (status, _spec, trueCondition) => {
    if (trueCondition('Finished')) return { phase: 'finished' };
    if (status.admission && trueCondition('QuotaReserved'))
      return { phase: 'admitted' };
    if (trueCondition('Evicted')) return { phase: 'evicted' };
    return { phase: 'pending' };
  },
  clusterQueue: (_status, _spec, trueCondition) => ({
    phase: trueCondition('Active') ? 'Active' : 'Inactive',
  }),
};

/** Training Operator / Trainer conditions: the first true of Succeeded, Complete, Failed, … */
function trainingConditionsPhase(
  trueCondition: (type: string) => Record<string, any> | undefined,
): Phase {
  for (const type of [
    'Succeeded',
    'Complete',
    'Failed',
    'Running',
    'Restarting',
    'Created',
  ]) {
    const c = trueCondition(type);
    if (c) {
      const phases: Record<string, string> = {
        Complete: 'Succeeded',
        Created: 'Pending',
      };
      return { phase: phases[type] ?? type, message: c.message };
    }
  }
  return { phase: 'Pending' };
}

/** A one-word summary of an object's state, and why (the status parser of its kind in the workload table). */
export function phaseOf(object: KubeObject): Phase {
  const status = (object.status ?? {}) as Record<string, any>;
  const spec = (object.spec ?? {}) as Record<string, any>;
  const conditions: Array<Record<string, any>> = Array.isArray(
    status.conditions,
  )
    ? status.conditions
    : [];
  const trueCondition = (type: string) =>
    conditions.find(c => c.type === type && c.status === 'True');
  const parser = clusterKindSpec(object.kind)?.status;
  if (!parser) return { phase: status.phase ?? 'Unknown' };
  return PHASES[parser](status, spec, trueCondition, conditions);
}
