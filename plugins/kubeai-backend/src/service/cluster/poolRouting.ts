/**
 * Routing a training task, notebook or pipeline step to its team's pool without typing a queue
 * name (`kubeai.pools.routing`): the task goes to its namespace's LocalQueue, the rule picks the flavor by size (the first
 * `flavors` entry the task fits, else `defaultFlavor`) and the WorkloadPriorityClass by kind
 * (periodic → `priorityClasses.periodic`, else `priorityClasses.default`). The flavor is set the
 * Kueue way: the pods' nodeSelector gets the ResourceFlavor's `nodeLabels`, and Kueue then admits
 * the workload only on that flavor of the ClusterQueue.
 *
 * What the user gives (`queue.name`, `queue.flavor`, `queue.priorityClass`, each optional: a flavor
 * or priority class alone still goes to the namespace's LocalQueue) wins, within what the
 * team may use: the queue must be a LocalQueue of the namespace, the flavor one its ClusterQueue
 * has quota in, the priority class an existing WorkloadPriorityClass — else a 422 naming it, before
 * anything is applied. Without `kubeai.pools.routing` nothing is looked up (the labels are set as
 * typed, as before).
 */
import type { Config } from '@backstage/config';
import type { ClusterGateway } from '../../cluster';
import { UnprocessableEntityError } from '../../errors';
import { parseQuantity } from '../../quantity';
import { clusterQueueFlavors, KUEUE_API_VERSION } from '../../manifests/kueue';
import type { KubeObject } from '../../manifests';

/** One size rule: the task fits when it asks at most `maxCpu` cores and between min/max GPUs. */
export interface FlavorRule {
  flavor: string;
  maxCpu?: number;
  minGpu?: number;
  maxGpu?: number;
}

/** `kubeai.pools.routing`. */
export interface PoolRoutingConfig {
  flavors: FlavorRule[];
  defaultFlavor?: string;
  priorityClasses: { periodic?: string; default?: string };
}

/** Reads `kubeai.pools.routing`; undefined when it is not configured (routing off). */
export function readPoolRoutingConfig(
  config: Config,
): PoolRoutingConfig | undefined {
  const routing = config.getOptionalConfig('kubeai.pools.routing');
  if (!routing) return undefined;
  return {
    flavors: (routing.getOptionalConfigArray('flavors') ?? []).map(r => ({
      flavor: r.getString('flavor'),
      maxCpu: r.getOptionalNumber('maxCpu'),
      minGpu: r.getOptionalNumber('minGpu'),
      maxGpu: r.getOptionalNumber('maxGpu'),
    })),
    defaultFlavor: routing.getOptionalString('defaultFlavor'),
    priorityClasses: {
      periodic: routing.getOptionalString('priorityClasses.periodic'),
      default: routing.getOptionalString('priorityClasses.default'),
    },
  };
}

/** Cores of a CPU quantity (`500m` → 0.5, `4` → 4). */
export function cpuCores(quantity: string | undefined): number {
  return parseQuantity(quantity) ?? 0;
}

/** The flavor the rule picks for a task of `cpu` and `gpu` (undefined: none). */
export function flavorFor(
  rule: PoolRoutingConfig,
  size: { cpu?: string; gpu?: number },
): string | undefined {
  const cores = cpuCores(size.cpu);
  const gpus = size.gpu ?? 0;
  const fits = (r: FlavorRule) =>
    (r.maxCpu === undefined || cores <= r.maxCpu) &&
    (r.minGpu === undefined || gpus >= r.minGpu) &&
    (r.maxGpu === undefined || gpus <= r.maxGpu);
  return rule.flavors.find(fits)?.flavor ?? rule.defaultFlavor;
}

/** What routing reads of a task and what it gives back. */
export interface RoutedTask {
  cluster: string;
  namespace: string;
  kind: string;
  resources?: { cpu?: string; gpu?: number };
  queue?: { name?: string; priorityClass?: string; flavor?: string };
  nodeSelector?: Record<string, string>;
  /** Runs on a schedule (a CronWorkflow's steps); default: its kind is periodic (CronJob). */
  periodic?: boolean;
}

const PERIODIC_KINDS = new Set(['CronJob', 'CronWorkflow']);

/** Where routing sent a task: what its run records (`kubeai_runs.cluster_queue`, `flavor`). */
export interface PoolChoice {
  clusterQueue?: string;
  flavor?: string;
}

/**
 * A task as it is sent: routed when `router` is given; without `kubeai.pools.routing` a queue
 * must be named (nothing picks one), else a 422 naming `<at>/queue/name`.
 */
export async function routeTask<T extends RoutedTask>(
  router: PoolRouter | undefined,
  task: T,
  at: string,
): Promise<T> {
  if (router) return router.route(task, at);
  if (task.queue && !task.queue.name) {
    throw new UnprocessableEntityError(
      `${at}/queue/name: required, kubeai.pools.routing is not configured to pick the namespace's LocalQueue`,
    );
  }
  return task;
}

/**
 * Routes the tasks of one request; lookups are kept for the request (a batch of 20,000 tasks of
 * one namespace reads its LocalQueues once).
 */
export class PoolRouter {
  readonly #gateway: () => ClusterGateway;
  readonly #rule: PoolRoutingConfig;
  readonly #lookups = new Map<string, Promise<unknown>>();
  readonly #choices = new WeakMap<object, PoolChoice>();

  constructor(gateway: () => ClusterGateway, rule: PoolRoutingConfig) {
    this.#gateway = gateway;
    this.#rule = rule;
  }

  #once<T>(key: string, read: () => Promise<T>): Promise<T> {
    if (!this.#lookups.has(key)) this.#lookups.set(key, read());
    return this.#lookups.get(key) as Promise<T>;
  }

  /** A cluster-scoped or namespaced Kueue object, or undefined when it does not exist. */
  #get(cluster: string, kind: string, name: string, namespace?: string) {
    return this.#once(`${cluster}\0${kind}\0${namespace ?? ''}\0${name}`, () =>
      this.#gateway()
        .get(cluster, { apiVersion: KUEUE_API_VERSION, kind, name, namespace })
        .catch(error => {
          if ((error as Error)?.name === 'NotFoundError') return undefined;
          throw error;
        }),
    ) as Promise<KubeObject | undefined>;
  }

  #localQueues(cluster: string, namespace: string) {
    return this.#once(`${cluster}\0LocalQueues\0${namespace}`, () =>
      this.#gateway().list(cluster, {
        apiVersion: KUEUE_API_VERSION,
        kind: 'LocalQueue',
        namespace,
      }),
    );
  }

  /** The ClusterQueue and flavor of a task {@link route} returned (undefined: not queued). */
  choiceOf(routed: object): PoolChoice | undefined {
    return this.#choices.get(routed);
  }

  /**
   * `task` with its queue, priority class and flavor's node labels set; `at` names the task in
   * the request (`request/body`, `request/body/items/3`). A namespace without a LocalQueue and no
   * queue given: the task is left unqueued.
   */
  async route<T extends RoutedTask>(task: T, at: string): Promise<T> {
    const { cluster, namespace } = task;
    const given = task.queue;
    let queue: KubeObject | undefined;
    if (given?.name) {
      queue = await this.#get(cluster, 'LocalQueue', given.name, namespace);
      if (!queue) {
        throw new UnprocessableEntityError(
          `${at}/queue/name: LocalQueue "${given.name}" not found in namespace "${namespace}" of cluster "${cluster}"`,
        );
      }
    } else {
      const queues = await this.#localQueues(cluster, namespace);
      // one per namespace by convention; more: the first by name, so the choice is stable
      queue = [...queues].sort((a, b) =>
        String(a.metadata.name).localeCompare(String(b.metadata.name)),
      )[0];
    }
    if (!queue) {
      if (given?.flavor || given?.priorityClass) {
        throw new UnprocessableEntityError(
          `${at}/queue: namespace "${namespace}" of cluster "${cluster}" has no LocalQueue`,
        );
      }
      return task;
    }
    const clusterQueueName = String((queue.spec as any)?.clusterQueue ?? '');
    const clusterQueue = clusterQueueName
      ? await this.#get(cluster, 'ClusterQueue', clusterQueueName)
      : undefined;
    const allowed = clusterQueue ? clusterQueueFlavors(clusterQueue) : [];

    let flavor = given?.flavor;
    if (flavor && !allowed.includes(flavor)) {
      throw new UnprocessableEntityError(
        `${at}/queue/flavor: flavor "${flavor}" has no quota in ClusterQueue "${clusterQueueName}" of LocalQueue "${
          queue.metadata.name
        }" (${allowed.length ? `has: ${allowed.join(', ')}` : 'it has none'})`,
      );
    }
    if (!flavor) {
      const picked = flavorFor(this.#rule, task.resources ?? {});
      // the rule's flavor only where the team has quota in it; else Kueue picks
      flavor = picked && allowed.includes(picked) ? picked : undefined;
    }
    let nodeLabels: Record<string, string> | undefined;
    if (flavor) {
      const resourceFlavor = await this.#get(cluster, 'ResourceFlavor', flavor);
      if (!resourceFlavor) {
        throw new UnprocessableEntityError(
          `${at}/queue/flavor: ResourceFlavor "${flavor}" not found in cluster "${cluster}"`,
        );
      }
      nodeLabels = (resourceFlavor.spec as any)?.nodeLabels;
    }

    let priorityClass = given?.priorityClass;
    if (priorityClass) {
      if (!(await this.#get(cluster, 'WorkloadPriorityClass', priorityClass))) {
        throw new UnprocessableEntityError(
          `${at}/queue/priorityClass: WorkloadPriorityClass "${priorityClass}" not found in cluster "${cluster}"`,
        );
      }
    } else {
      const byKind =
        task.periodic ?? PERIODIC_KINDS.has(task.kind)
          ? this.#rule.priorityClasses.periodic
          : this.#rule.priorityClasses.default;
      // a class the cluster lacks is left out: Kueue refuses workloads naming an unknown one
      if (
        byKind &&
        (await this.#get(cluster, 'WorkloadPriorityClass', byKind))
      ) {
        priorityClass = byKind;
      }
    }

    const { flavor: _flavor, ...queueRest } = given ?? {};
    const routed = {
      ...task,
      queue: {
        ...queueRest,
        name: String(queue.metadata.name),
        ...(priorityClass ? { priorityClass } : {}),
      },
      ...(nodeLabels && Object.keys(nodeLabels).length
        ? { nodeSelector: { ...nodeLabels, ...task.nodeSelector } }
        : {}),
    };
    this.#choices.set(
      routed,
      compactChoice({ clusterQueue: clusterQueueName || undefined, flavor }),
    );
    return routed;
  }
}

function compactChoice(choice: PoolChoice): PoolChoice {
  return Object.fromEntries(
    Object.entries(choice).filter(([, v]) => v !== undefined),
  );
}
