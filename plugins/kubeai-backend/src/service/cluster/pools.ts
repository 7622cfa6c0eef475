/**
 * Pools and quotas of a cluster as Kueue objects (../../manifests/kueue.ts): `GET
 * /clusters/{cluster}/pools` (everyone reads) and `POST /pools` (create or change them; the basic
 * permission `kubeai.pool.update`, which the `ownership` policy gives platform admins only),
 * applied with server-side apply through the write flow like every cluster write.
 */
import { InputError } from '@backstage/errors';
import { kubeaiPoolUpdatePermission } from '@kubeai/plugin-kubeai-common';
import type { KubeObject } from '../../manifests';
import {
  buildPools,
  KUEUE_API_VERSION,
  poolsInputSchema,
  POOL_RESOURCES,
  type PoolsInput,
} from '../../manifests/kueue';
import { compact, type ClusterApi, type ClusterContext } from './context';
import type { ClusterWritePlan, ClusterWriteSteps } from './ClusterWriteFlow';

interface PoolsRequest extends PoolsInput {
  cluster: string;
  dryRun?: boolean;
}

const str = (value: unknown) =>
  value === undefined || value === null ? undefined : String(value);

/** A ClusterQueue as the API shows it: cohort, namespaces and quota per flavor and resource. */
function clusterQueueView(object: KubeObject) {
  const spec = (object.spec ?? {}) as any;
  const namespaces: string[] =
    spec.namespaceSelector?.matchExpressions?.find(
      (e: any) =>
        e.key === 'kubernetes.io/metadata.name' && e.operator === 'In',
    )?.values ?? [];
  return compact({
    name: String(object.metadata.name),
    cohort: str(spec.cohortName),
    namespaces,
    quotas: (spec.resourceGroups ?? []).flatMap((group: any) =>
      (group.flavors ?? []).flatMap((flavor: any) =>
        (flavor.resources ?? []).map((r: any) =>
          compact({
            flavor: String(flavor.name),
            resource: String(r.name),
            nominalQuota: String(r.nominalQuota),
            borrowingLimit: str(r.borrowingLimit),
            lendingLimit: str(r.lendingLimit),
          }),
        ),
      ),
    ),
  });
}

/** Registers `GET /clusters/{cluster}/pools` and `POST /pools`. */
export function registerPoolRoutes(api: ClusterApi, ctx: ClusterContext): void {
  const { access, flow, assertCluster, zodCheck, result } = ctx;

  api.get('/clusters/:cluster/pools', async (req, res) => {
    const { cluster } = req.params;
    const gateway = assertCluster(cluster, 'path');
    const list = (kind: string) =>
      gateway
        .list(cluster, { apiVersion: KUEUE_API_VERSION, kind })
        .catch(error => {
          throw flow.clusterError(error, cluster);
        });
    const [flavors, clusterQueues, localQueues, priorityClasses] =
      await Promise.all([
        list('ResourceFlavor'),
        list('ClusterQueue'),
        list('LocalQueue'),
        list('WorkloadPriorityClass'),
      ]);
    const byName = (a: KubeObject, b: KubeObject) =>
      `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
      );
    res.json({
      cluster,
      resources: [...POOL_RESOURCES],
      flavors: flavors.sort(byName).map(f => ({
        name: String(f.metadata.name),
        nodeLabels: ((f.spec as any)?.nodeLabels ?? {}) as Record<
          string,
          string
        >,
      })),
      clusterQueues: clusterQueues.sort(byName).map(clusterQueueView),
      localQueues: localQueues.sort(byName).map(q => ({
        namespace: String(q.metadata.namespace),
        name: String(q.metadata.name),
        clusterQueue: String((q.spec as any)?.clusterQueue ?? ''),
      })),
      priorityClasses: priorityClasses.sort(byName).map(p =>
        compact({
          name: String(p.metadata.name),
          value: Number(p.value),
          description: str(p.description),
        }),
      ),
    });
  });

  const poolsWrite: ClusterWriteSteps<PoolsRequest, ClusterWritePlan> = {
    validate: body => {
      const { cluster: _c, dryRun: _d, ...input } = body;
      zodCheck(poolsInputSchema, input);
      input.teams?.forEach((team, t) =>
        team.quotas.forEach((q, i) => {
          // the CRD keys a ClusterQueue's flavors by name: twice would be refused by the apiserver
          if (team.quotas.findIndex(o => o.flavor === q.flavor) !== i) {
            throw new InputError(
              `request/body/teams/${t}/quotas/${i}/flavor: flavor "${q.flavor}" is given twice for team "${team.name}"`,
            );
          }
        }),
      );
      if (
        !input.flavors?.length &&
        !input.teams?.length &&
        !input.priorityClasses?.length
      ) {
        throw new InputError(
          'request/body: give at least one of flavors, teams, priorityClasses',
        );
      }
    },
    async resolve(body) {
      assertCluster(body.cluster, 'body');
      const { cluster: _c, dryRun: _d, ...input } = body;
      return {
        cluster: body.cluster,
        objects: buildPools(input),
        checks: [{ permission: kubeaiPoolUpdatePermission }],
      };
    },
  };

  api.post('/pools', async (req, res) => {
    const credentials = await access.credentials(req);
    const body = req.body as PoolsRequest;
    const dryRun = body.dryRun ?? false;
    const { plan, applied } = await flow.write(
      credentials,
      body,
      dryRun,
      poolsWrite,
    );
    const counts = new Map<string, number>();
    plan.objects.forEach(o =>
      counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1),
    );
    res.status(201).json(
      result(body.cluster, plan.objects, applied, 0, dryRun, {
        url: '/kubeai',
        message: `${dryRun ? 'Would apply' : 'Applied'} ${[...counts]
          .map(([kind, n]) => `${n} ${kind}`)
          .join(', ')} in cluster ${body.cluster}`,
      }),
    );
  });
}
