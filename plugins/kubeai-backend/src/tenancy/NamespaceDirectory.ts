/**
 * Who owns each namespace of each configured cluster: app-config (`kubeai.tenancy.namespaces`)
 * first, else the namespace's own `kubeai.io/owner` label or annotation. The namespaces are kept
 * by a list + watch per cluster (an informer of their own: they are cheap, and every replica needs
 * them to decide permissions); a namespace the watch has not delivered yet (just created) is read
 * directly, so a decision never rests on a namespace the portal has not seen.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import {
  clusterNamespaceRef,
  parseClusterNamespaceRef,
} from '@kubeai/plugin-kubeai-common';
import type { ClusterGateway } from '../cluster/ClusterGateway';
import type { ResolvedResource } from '../cluster/gatewayTypes';
import { watchOnce } from '../cluster/watch';
import type { KubeObject } from '../manifests/types';
import { parseOwner, type TenancyConfig } from './tenancyConfig';

/** A namespace as the permission framework and `GET /clusters/{c}/namespaces` see it. */
export interface ClusterNamespace {
  cluster: string;
  namespace: string;
  /** The owning group's ref; undefined: nobody declared one (platform admins only). */
  owner?: string;
  /** Where the owner comes from. */
  ownerSource?: 'config' | 'label' | 'annotation';
  /** False when the cluster has no such namespace (a write there fails later with 422). */
  exists: boolean;
}

const NAMESPACES: ResolvedResource = {
  group: '',
  version: 'v1',
  apiVersion: 'v1',
  kind: 'Namespace',
  resource: 'namespaces',
  namespaced: false,
};

type Logger = Pick<LoggerService, 'info' | 'warn'>;

/** What is known of one cluster's namespaces. */
interface ClusterCache {
  byName: Map<string, KubeObject>;
  /** The list + watch is running and has listed once. */
  synced: boolean;
}

export class NamespaceDirectory {
  readonly #gateway: ClusterGateway | undefined;
  readonly #tenancy: TenancyConfig;
  readonly #logger: Logger;
  readonly #caches = new Map<string, ClusterCache>();
  readonly #configured = new Map<string, string>();
  #abort: AbortController | undefined;

  constructor(options: {
    gateway?: ClusterGateway;
    tenancy: TenancyConfig;
    logger: Logger;
  }) {
    this.#gateway = options.gateway;
    this.#tenancy = options.tenancy;
    this.#logger = options.logger;
    for (const entry of options.tenancy.namespaces) {
      this.#configured.set(
        clusterNamespaceRef(entry.cluster, entry.namespace),
        entry.owner,
      );
    }
  }

  /** The owner of a namespace object (config first, then its label, then its annotation). */
  describe(cluster: string, object: KubeObject | undefined, name: string): ClusterNamespace {
    const configured = this.#configured.get(clusterNamespaceRef(cluster, name));
    const base = { cluster, namespace: name, exists: Boolean(object) };
    if (configured) return { ...base, owner: configured, ownerSource: 'config' };
    const key = this.#tenancy.ownerKey;
    const fromLabel = parseOwner(object?.metadata.labels?.[key]);
    if (fromLabel) return { ...base, owner: fromLabel, ownerSource: 'label' };
    const fromAnnotation = parseOwner(object?.metadata.annotations?.[key]);
    if (fromAnnotation) {
      return { ...base, owner: fromAnnotation, ownerSource: 'annotation' };
    }
    return base;
  }

  /**
   * The namespaces of `refs` (`<cluster>/<namespace>`), in order; undefined for a ref that is not
   * one or names an unknown cluster. For the permission framework's `getResources`.
   */
  async resources(refs: string[]): Promise<Array<ClusterNamespace | undefined>> {
    const unique = new Map<string, Promise<ClusterNamespace | undefined>>();
    for (const ref of refs) {
      if (!unique.has(ref)) unique.set(ref, this.#resource(ref));
    }
    return Promise.all(refs.map(ref => unique.get(ref)!));
  }

  async #resource(ref: string): Promise<ClusterNamespace | undefined> {
    const parsed = parseClusterNamespaceRef(ref);
    if (!parsed || !this.#gateway) return undefined;
    const { cluster, namespace } = parsed;
    if (!this.#gateway.listClusters().some(c => c.name === cluster)) {
      return undefined;
    }
    const cached = this.#caches.get(cluster)?.byName.get(namespace);
    if (cached) return this.describe(cluster, cached, namespace);
    return this.describe(cluster, await this.#read(cluster, namespace), namespace);
  }

  async #read(cluster: string, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.#gateway!.get(cluster, {
        apiVersion: 'v1',
        kind: 'Namespace',
        name,
      });
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /** Every namespace of a cluster with its owner, by name (from the watch once it has listed). */
  async list(cluster: string): Promise<ClusterNamespace[]> {
    const cache = this.#caches.get(cluster);
    const objects = cache?.synced
      ? [...cache.byName.values()]
      : await this.#gateway!.list(cluster, { apiVersion: 'v1', kind: 'Namespace' });
    return objects
      .map(o => this.describe(cluster, o, o.metadata.name!))
      .sort((a, b) => a.namespace.localeCompare(b.namespace));
  }

  /** Starts the list + watch of every configured cluster (until {@link stop}). */
  start(): void {
    if (!this.#gateway || this.#abort) return;
    this.#abort = new AbortController();
    for (const { name } of this.#gateway.listClusters()) {
      void this.#run(name, this.#abort.signal);
    }
  }

  stop(): void {
    this.#abort?.abort();
    this.#abort = undefined;
    this.#caches.clear();
  }

  async #run(cluster: string, signal: AbortSignal): Promise<void> {
    const gateway = this.#gateway!;
    const cache: ClusterCache = { byName: new Map(), synced: false };
    this.#caches.set(cluster, cache);
    let failures = 0;
    while (!signal.aborted) {
      try {
        const page = await gateway.listPage(cluster, NAMESPACES);
        cache.byName = new Map(page.items.map(o => [o.metadata.name!, o]));
        cache.synced = true;
        let resourceVersion = page.resourceVersion;
        failures = 0;
        for (;;) {
          const end = await watchOnce(gateway, cluster, NAMESPACES, {
            resourceVersion,
            signal,
            onEvent: (type, object) => {
              if (type === 'DELETED') cache.byName.delete(object.metadata.name!);
              else cache.byName.set(object.metadata.name!, object);
            },
          });
          if (end.reason !== 'closed') break; // gone: relist; aborted: the loop ends
          resourceVersion = end.resourceVersion;
        }
      } catch (error) {
        // until it answers again, decisions read each namespace directly
        cache.synced = false;
        failures += 1;
        if (failures === 1) {
          this.#logger.warn(
            `kubeai tenancy: cannot watch the namespaces of cluster ${cluster}: ${
              (error as Error)?.message ?? error
            }; retrying`,
          );
        }
        const delay = Math.min(2000 * failures, 10_000);
        await new Promise(resolve => {
          const timer = setTimeout(resolve, delay);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve(undefined);
          });
        });
      }
    }
  }
}
