/**
 * One cluster's client for the gateway (./ClusterGateway.ts): `@kubernetes/client-node` (ESM-only,
 * so loaded with `import()`) configured from a cluster connection, with responses returned as
 * plain JSON (the typed model classes are bypassed) and one keep-alive agent per cluster.
 */
import type { ClusterConnection } from './config';
import type { ResolvedResource } from './gatewayTypes';
import type { StreamKubeConfig } from './stream';

type K8s = typeof import('@kubernetes/client-node');

let k8sModule: Promise<K8s> | undefined;
/** Loads `@kubernetes/client-node` once. */
export function loadK8s(): Promise<K8s> {
  if (!k8sModule) {
    k8sModule = import('@kubernetes/client-node');
    // a failed load is tried again by the next call, not remembered for the life of the process
    k8sModule.catch(() => {
      k8sModule = undefined;
    });
  }
  return k8sModule;
}

/**
 * Per-request options of client-node's object API (its `Configuration`): here only what
 * {@link RawApi.impersonating} makes.
 */
export type RequestOptions = { readonly kind: 'kubeai.requestOptions' };

/** The client-node calls the gateway makes, answering plain JSON. */
export interface RawApi {
  patch(
    spec: object,
    pretty?: string,
    dryRun?: string,
    fieldManager?: string,
    force?: boolean,
    patchStrategy?: string,
    options?: RequestOptions,
  ): Promise<any>;
  read(spec: object): Promise<any>;
  /** POST (409 when it exists). */
  create(spec: object): Promise<any>;
  /** PUT with the object's resourceVersion (409 when it changed since). */
  replace(spec: object): Promise<any>;
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
    body?: object,
    options?: RequestOptions,
  ): Promise<any>;
  getJson(path: string): Promise<any>;
  /**
   * Options for `patch` / `delete` that send the request with `Impersonate-User` and one
   * `Impersonate-Group` header per group. The discovery of the object's resource that client-node
   * does first keeps the portal's own identity.
   */
  impersonating(as: { user: string; groups: string[] }): RequestOptions;
}

/** A KubernetesObjectApi whose responses are plain parsed JSON, plus raw discovery GETs. */
function createRawApi(
  k8s: K8s,
  kubeConfig: InstanceType<K8s['KubeConfig']>,
): RawApi {
  /**
   * A request with the Impersonate-* headers. Kubernetes takes every `Impersonate-Group` header
   * line as one group (a comma-joined value would be one group of that name), so the headers go
   * to node-fetch as [name, value] pairs, which it sends as repeated lines.
   */
  class ImpersonatingRequestContext extends k8s.RequestContext {
    readonly #as: { user: string; groups: string[] };

    constructor(
      url: string,
      method: any,
      as: { user: string; groups: string[] },
    ) {
      super(url, method);
      this.#as = as;
    }

    getHeaders(): any {
      const pairs = Object.entries(super.getHeaders()).filter(
        ([name]) => !/^impersonate-/i.test(name),
      );
      pairs.push(['Impersonate-User', this.#as.user]);
      for (const group of this.#as.groups) {
        pairs.push(['Impersonate-Group', group]);
      }
      return pairs;
    }
  }

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

    impersonating(as: { user: string; groups: string[] }): RequestOptions {
      // client-node's patch and delete build their request from `options.baseServer` (and send
      // it with the API's own auth and HTTP library), so a base server whose requests carry the
      // headers impersonates exactly those requests
      const base = this.configuration.baseServer;
      const options = {
        baseServer: {
          makeRequestContext: (endpoint: string, method: any) =>
            new ImpersonatingRequestContext(
              base.makeRequestContext(endpoint, method).getUrl(),
              method,
              as,
            ),
        },
      };
      return options as unknown as RequestOptions;
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

/** What the gateway keeps per cluster. */
export interface ClusterClient {
  api: RawApi;
  discovery: Map<string, { value: string; expires: number }>;
  /** For streaming GETs (watch, logs): see ./stream.ts. */
  kubeConfig: StreamKubeConfig;
  /** Resources resolved by {@link ClusterGateway.resolveResource}. */
  resources: Map<string, { value: ResolvedResource; expires: number }>;
}

/** The client of a cluster connection (the token goes into the KubeConfig, nowhere else). */
export async function createClusterClient(
  connection: ClusterConnection,
): Promise<ClusterClient> {
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
    users: [
      connection.tokenFile
        ? // client-node's tokenFile provider re-reads the file (every 60 s, as client-go), so a
          // rotated service-account token is picked up without a restart
          {
            name: 'kubeai',
            authProvider: {
              name: 'tokenFile',
              config: { tokenFile: connection.tokenFile },
            },
          }
        : { name: 'kubeai', token: connection.token },
    ],
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
}
