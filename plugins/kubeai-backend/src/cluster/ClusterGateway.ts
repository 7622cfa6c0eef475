/**
 * The cluster gateway: the only code in KubeAI that talks to Kubernetes clusters (besides test
 * helpers). Clusters come from `kubernetes.clusterLocatorMethods` (see ./config.ts).
 *
 * - Writes are server-side apply (`application/apply-patch+yaml`, field manager `kubeai`,
 *   `force: true`): applying the same object again changes nothing and never duplicates it.
 * - Served API versions are found by discovery and cached per cluster
 *   ({@link ClusterGateway.resolveApiVersion}, e.g. CronJob `batch/v1` vs `batch/v1beta1`).
 * - Failures become @backstage/errors (./errors.ts); only transient ones (HTTP 429 / 5xx,
 *   ECONNRESET, ETIMEDOUT) are retried, with exponential backoff.
 * - Tokens are never logged, returned or put into error messages.
 * - With `kubeai.tenancy.impersonation.enabled`, writes (apply, dry runs included, and delete) are
 *   sent as the caller (`as`: Impersonate-User / Impersonate-Group, see ./impersonation.ts), so
 *   the cluster's RBAC decides them for that person; reads, discovery and watches keep the
 *   portal's credentials. A 403 then names the caller, the namespace and the Kubernetes user.
 *
 * `@kubernetes/client-node` 1.x is ESM-only, so it is loaded with `import()`; its objects are
 * returned as plain JSON (the typed model classes are bypassed).
 *
 * Files: ./gatewayTypes.ts (API types), ./clusterClient.ts (one cluster's client-node client),
 * ./discovery.ts, ./retry.ts, ./impersonation.ts; the error mapping is ./errors.ts, streaming GETs
 * ./stream.ts.
 */
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import type { KubeObject } from '../manifests/types';
import {
  createClusterClient,
  loadK8s,
  type ClusterClient,
} from './clusterClient';
import { readClusterConnections, type ClusterConnection } from './config';
import {
  apiVersionOf,
  discoverKind,
  notServedError,
  resourcePath,
} from './discovery';
import { toClusterError, type ClusterCallContext } from './errors';
import type {
  ClusterGatewayOptions,
  ClusterInfo,
  ListQuery,
  ObjectRef,
  ResolvedResource,
  RetryOptions,
} from './gatewayTypes';
import {
  CallerImpersonation,
  readImpersonationConfig,
  type Impersonation,
} from './impersonation';
import { callWithRetry, retryPolicy } from './retry';
import {
  getJson as getJsonStream,
  openStream,
  type OpenStreamOptions,
  type StreamQuery,
} from './stream';
import type { IncomingMessage } from 'node:http';

export type {
  ClusterGatewayOptions,
  ClusterInfo,
  ListQuery,
  ObjectRef,
  ResolvedResource,
  RetryOptions,
} from './gatewayTypes';

/** The field manager of every KubeAI write. */
export const KUBEAI_FIELD_MANAGER = 'kubeai';

/** The gateway to the configured clusters. */
export class ClusterGateway {
  // ES private fields: not enumerable, so not even JSON.stringify(gateway) shows a token
  readonly #connections: Map<string, ClusterConnection>;
  readonly #clients = new Map<string, Promise<ClusterClient>>();
  readonly #secrets: string[];
  readonly #impersonation: CallerImpersonation;
  #warnedPortalServices = false;
  private readonly retry: Required<RetryOptions>;
  private readonly discoveryTtlMs: number;

  /**
   * A gateway for the `kubernetes.clusterLocatorMethods` clusters of a Backstage config, writing
   * as the caller when `kubeai.tenancy.impersonation.enabled` (then `options.userInfo` is needed).
   */
  static fromConfig(
    config: Config,
    options: ClusterGatewayOptions,
  ): ClusterGateway {
    return new ClusterGateway(readClusterConnections(config, options.logger), {
      ...options,
      impersonation: options.impersonation ?? readImpersonationConfig(config),
    });
  }

  constructor(
    connections: ClusterConnection[],
    private readonly options: ClusterGatewayOptions,
  ) {
    this.#connections = new Map(connections.map(c => [c.name, c]));
    this.#secrets = connections.map(c => c.token).filter(Boolean);
    this.retry = retryPolicy(options.retry);
    this.discoveryTtlMs = options.discoveryTtlMs ?? 10 * 60 * 1000;
    this.#impersonation = new CallerImpersonation(
      options.impersonation ?? {
        enabled: false,
        userPrefix: 'backstage:',
        groupPrefix: 'backstage:',
        services: 'impersonate',
      },
      options.userInfo,
    );
  }

  /** Whether writes are sent as the caller (Impersonate-User / Impersonate-Group). */
  get impersonates(): boolean {
    return this.#impersonation.config.enabled;
  }

  /** The configured clusters: names and URLs, never credentials. */
  listClusters(): ClusterInfo[] {
    return [...this.#connections.values()].map(c => ({
      name: c.name,
      url: c.url,
    }));
  }

  /**
   * Server-side applies `objects` in order (field manager `kubeai`, force), returning what the
   * apiserver stored (or, with `dryRun`, would store: nothing is persisted).
   */
  async apply(
    cluster: string,
    objects: KubeObject[],
    options: {
      dryRun?: boolean;
      as?: BackstageCredentials;
      /**
       * The portal's own object (a run's credential Secret, which no user writes): sent with the
       * portal's cluster credentials even when impersonation is on.
       */
      portal?: boolean;
    } = {},
  ): Promise<KubeObject[]> {
    const { api } = await this.client(cluster);
    const k8s = await loadK8s();
    const as = options.portal
      ? undefined
      : await this.impersonationOf(options.as);
    const requestOptions = as ? api.impersonating(as) : undefined;
    const results: KubeObject[] = [];
    for (const object of objects) {
      const body = structuredClone(object);
      if (body.metadata) {
        delete body.metadata.managedFields;
      }
      const ctx = this.context(cluster, 'apply', body);
      const stored = await this.write(ctx, as, () =>
        api.patch(
          body,
          undefined,
          options.dryRun ? 'All' : undefined,
          KUBEAI_FIELD_MANAGER,
          true,
          k8s.PatchStrategy.ServerSideApply,
          requestOptions,
        ),
      );
      this.options.logger.info(
        `kubeai applied ${body.kind} ${
          body.metadata?.namespace ? `${body.metadata.namespace}/` : ''
        }${body.metadata?.name} to cluster ${cluster}${
          as ? ` as ${as.user}` : ''
        }${options.dryRun ? ' (dry run)' : ''}`,
      );
      results.push(stored);
    }
    return results;
  }

  /**
   * Creates `object`, or replaces it when its `metadata.resourceVersion` is set — a ConflictError
   * when the object changed since (optimistic concurrency). With the portal's own credentials,
   * never impersonated, no retries: the informer leader election's Leases, whose writes must not
   * be repeated after the state they were based on may have changed.
   */
  async putPortalObject(
    cluster: string,
    object: KubeObject,
  ): Promise<KubeObject> {
    const { api } = await this.client(cluster);
    const ctx = this.context(cluster, 'apply', object);
    try {
      return (await (object.metadata?.resourceVersion
        ? api.replace(object)
        : api.create(object))) as KubeObject;
    } catch (error) {
      throw this.toError(error, ctx);
    }
  }

  /** Reads one object (NotFoundError when it does not exist). */
  async get(cluster: string, ref: ObjectRef): Promise<KubeObject> {
    const { api } = await this.client(cluster);
    return this.call(this.context(cluster, 'get', ref), () =>
      api.read({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: {
          name: ref.name,
          ...(ref.namespace ? { namespace: ref.namespace } : {}),
        },
      }),
    );
  }

  /** Lists objects (all pages), e.g. by `labelSelector: kubeaiSelector({ modelRef })`. */
  async list(cluster: string, query: ListQuery): Promise<KubeObject[]> {
    const { api } = await this.client(cluster);
    const ctx = this.context(cluster, 'list', { ...query, name: undefined });
    const items: KubeObject[] = [];
    let continueToken: string | undefined;
    do {
      const token = continueToken;
      const page = await this.call(ctx, () =>
        api.list(
          query.apiVersion,
          query.kind,
          query.namespace,
          undefined,
          undefined,
          undefined,
          query.fieldSelector,
          query.labelSelector,
          500,
          token,
        ),
      );
      for (const item of page?.items ?? []) {
        items.push({ apiVersion: query.apiVersion, kind: query.kind, ...item });
      }
      continueToken = page?.metadata?.continue || undefined;
    } while (continueToken);
    return items;
  }

  /**
   * Deletes an object (background propagation by default). Returns false when it did not exist.
   */
  async delete(
    cluster: string,
    ref: ObjectRef,
    options: {
      dryRun?: boolean;
      propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
      /** The caller, impersonated when impersonation is on. */
      as?: BackstageCredentials;
      /** The portal's own object (a run's credential Secret): never impersonated. */
      portal?: boolean;
    } = {},
  ): Promise<boolean> {
    const { api } = await this.client(cluster);
    const as = options.portal
      ? undefined
      : await this.impersonationOf(options.as);
    const requestOptions = as ? api.impersonating(as) : undefined;
    try {
      await this.write(this.context(cluster, 'delete', ref), as, () =>
        api.delete(
          {
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            metadata: {
              name: ref.name,
              ...(ref.namespace ? { namespace: ref.namespace } : {}),
            },
          },
          undefined,
          options.dryRun ? 'All' : undefined,
          undefined,
          undefined,
          options.propagationPolicy ?? 'Background',
          undefined,
          requestOptions,
        ),
      );
    } catch (error) {
      if (error instanceof NotFoundError) {
        return false;
      }
      throw error;
    }
    this.options.logger.info(
      `kubeai deleted ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${
        ref.name
      } in cluster ${cluster}${as ? ` as ${as.user}` : ''}${
        options.dryRun ? ' (dry run)' : ''
      }`,
    );
    return true;
  }

  /**
   * The apiVersion (`group/version`, or `version` for the core group) the cluster serves `kind`
   * in, trying `preferredVersions` in order, by discovery (cached per cluster). E.g.
   * `resolveApiVersion('local', 'batch', 'CronJob', ['v1', 'v1beta1'])` is `batch/v1beta1` on
   * Kubernetes 1.20. NotFoundError when none of them is served.
   */
  async resolveApiVersion(
    cluster: string,
    group: string,
    kind: string,
    preferredVersions: string[],
  ): Promise<string> {
    const client = await this.client(cluster);
    const key = `${group}|${kind}|${preferredVersions.join(',')}`;
    const cached = client.discovery.get(key);
    if (cached && cached.expires > Date.now()) {
      return cached.value;
    }
    const ctx: ClusterCallContext = { cluster, verb: 'discover', kind };
    const found = await discoverKind(
      path => this.call(ctx, () => client.api.getJson(path)),
      group,
      kind,
      preferredVersions,
    );
    if (!found) {
      throw notServedError(cluster, group, kind, preferredVersions);
    }
    const value = apiVersionOf(group, found.version);
    client.discovery.set(key, {
      value,
      expires: Date.now() + this.discoveryTtlMs,
    });
    return value;
  }

  /** Names of the cluster's namespaces. */
  async namespaces(cluster: string): Promise<string[]> {
    const items = await this.list(cluster, {
      apiVersion: 'v1',
      kind: 'Namespace',
    });
    return items.map(n => n.metadata.name!).sort();
  }

  // ------------------------------------------------------------------ list / watch / logs
  // (the cluster informers of ../informers and the run logs route)

  /**
   * How the cluster serves `kind` of `group`: apiVersion, plural resource name and scope, trying
   * `preferredVersions` in order (discovery, cached per cluster like {@link resolveApiVersion}).
   * NotFoundError when none of them serves the kind (e.g. its CRD is not installed).
   */
  async resolveResource(
    cluster: string,
    group: string,
    kind: string,
    preferredVersions: string[],
  ): Promise<ResolvedResource> {
    const client = await this.client(cluster);
    const key = `${group}|${kind}|${preferredVersions.join(',')}`;
    const cached = client.resources.get(key);
    if (cached && cached.expires > Date.now()) {
      return cached.value;
    }
    const ctx: ClusterCallContext = { cluster, verb: 'discover', kind };
    const found = await discoverKind(
      path => this.call(ctx, () => getJsonStream(client.kubeConfig, path)),
      group,
      kind,
      preferredVersions,
    );
    if (!found) {
      throw notServedError(cluster, group, kind, preferredVersions);
    }
    const value: ResolvedResource = {
      group,
      version: found.version,
      apiVersion: apiVersionOf(group, found.version),
      kind,
      resource: found.resource.name,
      namespaced: Boolean(found.resource.namespaced),
    };
    client.resources.set(key, {
      value,
      expires: Date.now() + this.discoveryTtlMs,
    });
    return value;
  }

  /** The URL path of a resource's collection, object or subresource. */
  static resourcePath(
    resource: ResolvedResource,
    options: { namespace?: string; name?: string; subresource?: string } = {},
  ): string {
    return resourcePath(resource, options);
  }

  /**
   * One page of a list, as the apiserver answers it: the items (with apiVersion and kind set),
   * the list's `resourceVersion` (where a watch continues) and the `continue` token of the next
   * page. Transient failures are retried; others become @backstage/errors.
   */
  async listPage(
    cluster: string,
    resource: ResolvedResource,
    query: {
      namespace?: string;
      labelSelector?: string;
      fieldSelector?: string;
      limit?: number;
      continue?: string;
    } = {},
  ): Promise<{
    items: KubeObject[];
    resourceVersion: string;
    continue?: string;
  }> {
    const client = await this.client(cluster);
    const path = ClusterGateway.resourcePath(resource, {
      namespace: query.namespace,
    });
    const ctx: ClusterCallContext = {
      cluster,
      verb: 'list',
      apiVersion: resource.apiVersion,
      kind: resource.kind,
      namespace: query.namespace,
    };
    const page = await this.call(ctx, () =>
      getJsonStream(client.kubeConfig, path, {
        labelSelector: query.labelSelector || undefined,
        fieldSelector: query.fieldSelector || undefined,
        limit: query.limit,
        continue: query.continue,
      }),
    );
    const items: KubeObject[] = (page?.items ?? []).map((item: any) => {
      item.apiVersion = resource.apiVersion;
      item.kind = resource.kind;
      return item;
    });
    return {
      items,
      resourceVersion: String(page?.metadata?.resourceVersion ?? ''),
      continue: page?.metadata?.continue || undefined,
    };
  }

  /**
   * Opens a streaming GET (a watch with `watch=true`, pod logs with `follow=true`) and resolves
   * with the response once it is 2xx. Failures are raw (StreamHttpError with the HTTP `code`, or
   * the socket error): callers tell a 410 Gone apart, then map the rest with {@link toError}.
   */
  async stream(
    cluster: string,
    path: string,
    query: StreamQuery,
    options: OpenStreamOptions = {},
  ): Promise<IncomingMessage> {
    const client = await this.client(cluster);
    return openStream(client.kubeConfig, path, query, options);
  }

  /** Maps a raw failure (of {@link stream}) to a @backstage/errors error, without credentials. */
  toError(error: unknown, ctx: ClusterCallContext): Error {
    return toClusterError(error, ctx, this.#secrets);
  }

  /** The apiserver's `/version` (a cheap reachability check); retried like every call. */
  async serverVersion(cluster: string): Promise<{ gitVersion?: string }> {
    const client = await this.client(cluster);
    return this.call({ cluster, verb: 'get', kind: 'version' }, () =>
      client.api.getJson('/version'),
    );
  }

  // -------------------------------------------------------------------------------------------

  private context(
    cluster: string,
    verb: string,
    ref: {
      apiVersion?: string;
      kind?: string;
      name?: string;
      namespace?: string;
      metadata?: any;
    },
  ): ClusterCallContext {
    return {
      cluster,
      verb,
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      name: ref.name ?? ref.metadata?.name,
      namespace: ref.namespace ?? ref.metadata?.namespace,
    };
  }

  private client(cluster: string): Promise<ClusterClient> {
    const connection = this.#connections.get(cluster);
    if (!connection) {
      const known = [...this.#connections.keys()];
      return Promise.reject(
        new InputError(
          `unknown cluster "${cluster}"${
            known.length
              ? ` (configured: ${known.join(', ')})`
              : ' (no clusters configured)'
          }`,
        ),
      );
    }
    let client = this.#clients.get(cluster);
    if (!client) {
      client = createClusterClient(connection);
      client.catch(() => this.#clients.delete(cluster));
      this.#clients.set(cluster, client);
    }
    return client;
  }

  /**
   * Who a write is sent as: the caller's impersonation, or undefined for the portal's own
   * credentials (impersonation off; a service caller with `services: portal`). With impersonation
   * on, a write without a caller is refused: it must not pass the wall unnoticed.
   */
  private async impersonationOf(
    credentials: BackstageCredentials | undefined,
  ): Promise<Impersonation | undefined> {
    if (!this.impersonates) return undefined;
    if (!credentials) {
      throw new Error(
        'kubeai cluster write without a caller while kubeai.tenancy.impersonation is enabled',
      );
    }
    const as = await this.#impersonation.of(credentials);
    if (!as && !this.#warnedPortalServices) {
      this.#warnedPortalServices = true;
      this.options.logger.warn(
        "kubeai: service callers write with the portal's own cluster credentials (kubeai.tenancy.impersonation.services: portal)",
      );
    }
    return as;
  }

  /**
   * A write call ({@link call}); sent as `as`, its 403 names the caller, the namespace and the
   * Kubernetes user the cluster's RBAC refused, or says that the cluster does not let the portal
   * impersonate at all.
   */
  private async write<T>(
    ctx: ClusterCallContext,
    as: Impersonation | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    if (!as) return this.call(ctx, fn);
    let impersonationRefused = false;
    try {
      return await this.call(ctx, () =>
        fn().catch(error => {
          impersonationRefused ||= refusesImpersonation(error);
          throw error;
        }),
      );
    } catch (error) {
      if (error instanceof NotAllowedError) {
        error.message = forbiddenAs(ctx, as, impersonationRefused);
      }
      throw error;
    }
  }

  /** Runs a call with retries of transient failures, mapping the final error. */
  private call<T>(ctx: ClusterCallContext, fn: () => Promise<T>): Promise<T> {
    return callWithRetry(ctx, fn, {
      retry: this.retry,
      logger: this.options.logger,
      secrets: this.#secrets,
    });
  }
}

/** Whether the apiserver refused the impersonation itself (the portal may not impersonate). */
function refusesImpersonation(error: unknown): boolean {
  const { code, body } = (error ?? {}) as { code?: unknown; body?: unknown };
  if (code !== 403) return false;
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  return /cannot impersonate/.test(text);
}

/** The message of a 403 to a write sent as `as`. */
function forbiddenAs(
  ctx: ClusterCallContext,
  as: Impersonation,
  impersonationRefused: boolean,
): string {
  const target = `${ctx.kind ?? 'object'}${ctx.name ? ` "${ctx.name}"` : ''}${
    ctx.namespace ? ` in namespace "${ctx.namespace}"` : ''
  } of cluster "${ctx.cluster}"`;
  if (impersonationRefused) {
    return (
      `cluster "${ctx.cluster}" does not let the portal impersonate ${as.actor} ` +
      `(Kubernetes user "${as.user}") to ${ctx.verb} ${target}: grant the portal's account ` +
      `the impersonate verb on users and groups (kubeai.tenancy.impersonation)`
    );
  }
  return (
    `${as.actor} may not ${ctx.verb} ${target}: the cluster's RBAC forbids it for ` +
    `Kubernetes user "${as.user}" (groups ${as.groups.join(', ')})`
  );
}
