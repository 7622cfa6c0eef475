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
 *
 * `@kubernetes/client-node` 1.x is ESM-only, so it is loaded with `import()`; its objects are
 * returned as plain JSON (the typed model classes are bypassed).
 */
import type { Config } from '@backstage/config';
import { InputError, NotFoundError } from '@backstage/errors';
import type { KubeObject } from '../manifests/types';
import {
  readClusterConnections,
  type ClusterConnection,
  type GatewayLogger,
} from './config';
import { isTransient, toClusterError, type ClusterCallContext } from './errors';
import {
  getJson as getJsonStream,
  openStream,
  type OpenStreamOptions,
  type StreamKubeConfig,
  type StreamQuery,
} from './stream';
import type { IncomingMessage } from 'node:http';

/** The field manager of every KubeAI write. */
export const KUBEAI_FIELD_MANAGER = 'kubeai';

type K8s = typeof import('@kubernetes/client-node');

let k8sModule: Promise<K8s> | undefined;
/** Loads `@kubernetes/client-node` once. */
function loadK8s(): Promise<K8s> {
  if (!k8sModule) {
    k8sModule = import('@kubernetes/client-node');
    // a failed load is tried again by the next call, not remembered for the life of the process
    k8sModule.catch(() => {
      k8sModule = undefined;
    });
  }
  return k8sModule;
}

/** A cluster as the gateway shows it (never the token). */
export interface ClusterInfo {
  name: string;
  url: string;
}

/** Identifies one object. `namespace` is required for namespaced kinds. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** How a cluster serves a kind (see {@link ClusterGateway.resolveResource}). */
export interface ResolvedResource {
  /** API group, `''` for the core group. */
  group: string;
  version: string;
  /** `group/version`, or `version` for the core group. */
  apiVersion: string;
  kind: string;
  /** Plural resource name, e.g. `inferenceservices`. */
  resource: string;
  namespaced: boolean;
}

/** What {@link ClusterGateway.list} lists. */
export interface ListQuery {
  apiVersion: string;
  kind: string;
  /** Omit for cluster-scoped kinds or to list across all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** Retry policy for transient failures. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff delay in ms (default 200), doubled each retry. */
  baseDelayMs?: number;
  /** Longest delay in ms (default 5000), also the cap of `Retry-After`. */
  maxDelayMs?: number;
}

/** Options of {@link ClusterGateway.fromConfig}. */
export interface ClusterGatewayOptions {
  logger: GatewayLogger;
  retry?: RetryOptions;
  /** How long discovery results are cached (default 10 minutes). */
  discoveryTtlMs?: number;
}

interface RawApi {
  patch(
    spec: object,
    pretty?: string,
    dryRun?: string,
    fieldManager?: string,
    force?: boolean,
    patchStrategy?: string,
  ): Promise<any>;
  read(spec: object): Promise<any>;
  list(
    apiVersion: string,
    kind: string,
    namespace?: string,
    pretty?: string,
    exact?: boolean,
    exportt?: boolean,
    fieldSelector?: string,
    labelSelector?: string,
    limit?: number,
    continueToken?: string,
  ): Promise<any>;
  delete(
    spec: object,
    pretty?: string,
    dryRun?: string,
    gracePeriodSeconds?: number,
    orphanDependents?: boolean,
    propagationPolicy?: string,
  ): Promise<any>;
  getJson(path: string): Promise<any>;
}

/** A KubernetesObjectApi whose responses are plain parsed JSON, plus raw discovery GETs. */
function createRawApi(
  k8s: K8s,
  kubeConfig: InstanceType<K8s['KubeConfig']>,
): RawApi {
  class RawObjectApi extends k8s.KubernetesObjectApi {
    protected async processResponse(response: any): Promise<any> {
      const text: string = await response.body.text();
      let data: unknown = text;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch {
        // keep the text (error pages of proxies)
      }
      if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
        return data;
      }
      throw new k8s.ApiException(
        response.httpStatusCode,
        'Unsuccessful HTTP Request',
        data,
        response.headers,
      );
    }

    /** GET of a discovery (or any) path, as JSON. */
    async getJson(path: string): Promise<any> {
      const context = this.configuration.baseServer.makeRequestContext(
        path,
        k8s.HttpMethod.GET,
      );
      context.setHeaderParam('Accept', 'application/json');
      return this.requestPromise(context);
    }
  }
  return kubeConfig.makeApiClient(RawObjectApi) as unknown as RawApi;
}

/**
 * client-node 1.4 creates an agent — hence a new TLS connection and a CA parse — for every API
 * request. A cluster's agent options never change (the token travels in a header), so the first
 * agent, made keep-alive, serves every request to the cluster. Proxied clusters keep client-node's
 * own agents. Watches and logs (./stream.ts) open their own connections.
 */
function reuseOneAgent(kubeConfig: InstanceType<K8s['KubeConfig']>): void {
  type CreateAgent = (cluster: any, options: object) => unknown;
  const own = kubeConfig as unknown as { createAgent: CreateAgent };
  const createAgent = own.createAgent.bind(kubeConfig);
  let agent: unknown;
  own.createAgent = (cluster, options) => {
    if (cluster?.proxyUrl) return createAgent(cluster, options);
    agent ??= createAgent(cluster, { ...options, keepAlive: true });
    return agent;
  };
}

interface ClusterClient {
  api: RawApi;
  discovery: Map<string, { value: string; expires: number }>;
  /** For streaming GETs (watch, logs): see ./stream.ts. */
  kubeConfig: StreamKubeConfig;
  /** Resources resolved by {@link ClusterGateway.resolveResource}. */
  resources: Map<string, { value: ResolvedResource; expires: number }>;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** The gateway to the configured clusters. */
export class ClusterGateway {
  // ES private fields: not enumerable, so not even JSON.stringify(gateway) shows a token
  readonly #connections: Map<string, ClusterConnection>;
  readonly #clients = new Map<string, Promise<ClusterClient>>();
  readonly #secrets: string[];
  private readonly retry: Required<RetryOptions>;
  private readonly discoveryTtlMs: number;

  /** A gateway for the `kubernetes.clusterLocatorMethods` clusters of a Backstage config. */
  static fromConfig(
    config: Config,
    options: ClusterGatewayOptions,
  ): ClusterGateway {
    return new ClusterGateway(
      readClusterConnections(config, options.logger),
      options,
    );
  }

  constructor(
    connections: ClusterConnection[],
    private readonly options: ClusterGatewayOptions,
  ) {
    this.#connections = new Map(connections.map(c => [c.name, c]));
    this.#secrets = connections.map(c => c.token).filter(Boolean);
    this.retry = {
      retries: options.retry?.retries ?? 3,
      baseDelayMs: options.retry?.baseDelayMs ?? 200,
      maxDelayMs: options.retry?.maxDelayMs ?? 5000,
    };
    this.discoveryTtlMs = options.discoveryTtlMs ?? 10 * 60 * 1000;
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
    options: { dryRun?: boolean } = {},
  ): Promise<KubeObject[]> {
    const { api } = await this.client(cluster);
    const k8s = await loadK8s();
    const results: KubeObject[] = [];
    for (const object of objects) {
      const body = structuredClone(object);
      if (body.metadata) {
        delete body.metadata.managedFields;
      }
      const ctx = this.context(cluster, 'apply', body);
      const stored = await this.call(ctx, () =>
        api.patch(
          body,
          undefined,
          options.dryRun ? 'All' : undefined,
          KUBEAI_FIELD_MANAGER,
          true,
          k8s.PatchStrategy.ServerSideApply,
        ),
      );
      this.options.logger.info(
        `kubeai applied ${body.kind} ${
          body.metadata?.namespace ? `${body.metadata.namespace}/` : ''
        }${body.metadata?.name} to cluster ${cluster}${
          options.dryRun ? ' (dry run)' : ''
        }`,
      );
      results.push(stored);
    }
    return results;
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
    } = {},
  ): Promise<boolean> {
    const { api } = await this.client(cluster);
    try {
      await this.call(this.context(cluster, 'delete', ref), () =>
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
      } in cluster ${cluster}${options.dryRun ? ' (dry run)' : ''}`,
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
    const groupPath = group ? `/apis/${group}` : '/api';
    let served: string[];
    try {
      const groupInfo = await this.call(ctx, () =>
        client.api.getJson(groupPath),
      );
      served = group
        ? (groupInfo?.versions ?? []).map((v: { version: string }) => v.version)
        : groupInfo?.versions ?? [];
    } catch (error) {
      if (error instanceof NotFoundError) {
        served = [];
      } else {
        throw error;
      }
    }
    for (const version of preferredVersions.filter(v => served.includes(v))) {
      const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
      const resources = await this.call(ctx, () => client.api.getJson(path));
      const hasKind = (resources?.resources ?? []).some(
        (r: { kind: string; name: string }) =>
          r.kind === kind && !r.name.includes('/'),
      );
      if (hasKind) {
        const value = group ? `${group}/${version}` : version;
        client.discovery.set(key, {
          value,
          expires: Date.now() + this.discoveryTtlMs,
        });
        return value;
      }
    }
    throw new NotFoundError(
      `cluster "${cluster}" serves ${kind} in none of ${preferredVersions
        .map(v => (group ? `${group}/${v}` : v))
        .join(', ')}`,
    );
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
    let served: string[];
    try {
      const groupInfo = await this.call(ctx, () =>
        getJsonStream(client.kubeConfig, group ? `/apis/${group}` : '/api'),
      );
      served = group
        ? (groupInfo?.versions ?? []).map((v: { version: string }) => v.version)
        : groupInfo?.versions ?? [];
    } catch (error) {
      if (!(error instanceof NotFoundError)) {
        throw error;
      }
      served = [];
    }
    for (const version of preferredVersions.filter(v => served.includes(v))) {
      const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
      const list = await this.call(ctx, () =>
        getJsonStream(client.kubeConfig, path),
      );
      const found = (list?.resources ?? []).find(
        (r: { kind: string; name: string }) =>
          r.kind === kind && !r.name.includes('/'),
      );
      if (found) {
        const value: ResolvedResource = {
          group,
          version,
          apiVersion: group ? `${group}/${version}` : version,
          kind,
          resource: found.name,
          namespaced: Boolean(found.namespaced),
        };
        client.resources.set(key, {
          value,
          expires: Date.now() + this.discoveryTtlMs,
        });
        return value;
      }
    }
    throw new NotFoundError(
      `cluster "${cluster}" serves ${kind} in none of ${preferredVersions
        .map(v => (group ? `${group}/${v}` : v))
        .join(', ')}`,
    );
  }

  /** The URL path of a resource's collection, object or subresource. */
  static resourcePath(
    resource: ResolvedResource,
    options: { namespace?: string; name?: string; subresource?: string } = {},
  ): string {
    const base = resource.group
      ? `/apis/${resource.group}/${resource.version}`
      : `/api/${resource.version}`;
    const ns =
      resource.namespaced && options.namespace
        ? `/namespaces/${encodeURIComponent(options.namespace)}`
        : '';
    const name = options.name ? `/${encodeURIComponent(options.name)}` : '';
    const sub =
      options.name && options.subresource ? `/${options.subresource}` : '';
    return `${base}${ns}/${resource.resource}${name}${sub}`;
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
      client = (async () => {
        const k8s = await loadK8s();
        const kubeConfig = new k8s.KubeConfig();
        kubeConfig.loadFromOptions({
          clusters: [
            {
              name: connection.name,
              server: connection.url,
              skipTLSVerify: connection.skipTLSVerify,
              ...(connection.caData ? { caData: connection.caData } : {}),
              ...(connection.caFile ? { caFile: connection.caFile } : {}),
            },
          ],
          users: [{ name: 'kubeai', token: connection.token }],
          contexts: [
            { name: connection.name, cluster: connection.name, user: 'kubeai' },
          ],
          currentContext: connection.name,
        });
        reuseOneAgent(kubeConfig);
        return {
          api: createRawApi(k8s, kubeConfig),
          discovery: new Map(),
          kubeConfig,
          resources: new Map(),
        };
      })();
      client.catch(() => this.#clients.delete(cluster));
      this.#clients.set(cluster, client);
    }
    return client;
  }

  /** Runs a call with retries of transient failures, mapping the final error. */
  private async call<T>(
    ctx: ClusterCallContext,
    fn: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (attempt < this.retry.retries && isTransient(error)) {
          const delay = this.backoff(attempt, error);
          this.options.logger.warn(
            `kubeai: transient failure to ${ctx.verb} ${
              ctx.kind ?? ''
            } in cluster ${ctx.cluster}, retry ${attempt + 1}/${
              this.retry.retries
            } in ${delay} ms`,
          );
          await sleep(delay);
          continue;
        }
        const mapped = toClusterError(error, ctx, this.#secrets);
        this.options.logger.debug(
          `kubeai cluster call failed: ${mapped.name}: ${mapped.message}`,
        );
        throw mapped;
      }
    }
  }

  private backoff(attempt: number, error: unknown): number {
    const headers = (error as { headers?: Record<string, string> })?.headers;
    const retryAfter = Number(headers?.['retry-after']);
    const exponential = this.retry.baseDelayMs * 2 ** attempt;
    const delay =
      Number.isFinite(retryAfter) && retryAfter > 0
        ? retryAfter * 1000
        : exponential;
    return Math.min(delay, this.retry.maxDelayMs);
  }
}
