/**
 * The observed-state part of the KubeAI API (`/api/kubeai`): cluster informer health, observed
 * objects, run logs — what really runs in the clusters. Types come from the OpenAPI spec
 * (`ClusterSyncStatusList`, `ObservedObjectList`, …); the permission guards the logs route.
 */
import { ResponseError } from '@backstage/errors';
import { createPermission } from '@backstage/plugin-permission-common';
import type { KubeaiRequestOptions } from './KubeaiApi';
import type { KubeaiClientOptions } from './KubeaiClient';
import type {
  ClusterSyncStatusList,
  GetRunLogsQuery,
  ListObservedObjectsQuery,
  ObservedObjectList,
} from './types.generated';

/**
 * Read the logs of a run's pods. Basic permission. Route: `GET /runs/{id}/logs`.
 * Registered by the kubeai backend next to `kubeaiPermissions`.
 */
export const kubeaiRunLogsReadPermission = createPermission({
  name: 'kubeai.run.logs.read',
  attributes: { action: 'read' },
});

/** The permissions of the observed-state routes. */
export const kubeaiObservedPermissions = [kubeaiRunLogsReadPermission];

/** The observed-state routes of the KubeAI API. */
export interface KubeaiObservedApi {
  /** `GET /clusters/status` — the cluster informers' health. */
  getClustersStatus(
    options?: KubeaiRequestOptions,
  ): Promise<ClusterSyncStatusList>;
  /** `GET /observed/objects` — objects as the informers last saw them. */
  listObservedObjects(
    query?: ListObservedObjectsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ObservedObjectList>;
  /** `GET /runs/{id}/logs` without `follow`: the last `tail` lines of the run's pods. */
  getRunLogs(
    id: string,
    query?: Omit<GetRunLogsQuery, 'follow'>,
    options?: KubeaiRequestOptions,
  ): Promise<string>;
  /**
   * `GET /runs/{id}/logs?follow=true`: the response body streams new lines; cancel it (or abort
   * `options.signal`) to stop.
   */
  followRunLogs(
    id: string,
    query?: Omit<GetRunLogsQuery, 'follow'>,
    options?: KubeaiRequestOptions & { signal?: AbortSignal },
  ): Promise<ReadableStream<Uint8Array>>;
}

type Query = Record<string, string | number | boolean | undefined>;

/** Client of {@link KubeaiObservedApi}; same options as `KubeaiClient`. */
export class KubeaiObservedClient implements KubeaiObservedApi {
  readonly #options: KubeaiClientOptions;

  constructor(options: KubeaiClientOptions) {
    this.#options = options;
  }

  getClustersStatus(
    options?: KubeaiRequestOptions,
  ): Promise<ClusterSyncStatusList> {
    return this.#get('/clusters/status', {}, options).then(r => r.json());
  }

  listObservedObjects(
    query?: ListObservedObjectsQuery,
    options?: KubeaiRequestOptions,
  ): Promise<ObservedObjectList> {
    return this.#get('/observed/objects', query as Query, options).then(r =>
      r.json(),
    );
  }

  getRunLogs(
    id: string,
    query?: Omit<GetRunLogsQuery, 'follow'>,
    options?: KubeaiRequestOptions,
  ): Promise<string> {
    return this.#get(
      `/runs/${encodeURIComponent(id)}/logs`,
      query as Query,
      options,
    ).then(r => r.text());
  }

  async followRunLogs(
    id: string,
    query?: Omit<GetRunLogsQuery, 'follow'>,
    options?: KubeaiRequestOptions & { signal?: AbortSignal },
  ): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#get(
      `/runs/${encodeURIComponent(id)}/logs`,
      { ...(query as Query), follow: true },
      options,
    );
    if (!response.body) {
      throw new Error('the logs response has no body');
    }
    return response.body;
  }

  async #get(
    route: string,
    query: Query = {},
    options?: KubeaiRequestOptions & { signal?: AbortSignal },
  ): Promise<Response> {
    const baseUrl = await this.#options.discoveryApi.getBaseUrl('kubeai');
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.append(key, String(value));
    }
    const search = params.toString();
    const headers: Record<string, string> = {};
    if (options?.token) {
      headers.Authorization = `Bearer ${options.token}`;
    }
    const fetchFn =
      this.#options.fetchApi?.fetch ??
      ((...args: Parameters<typeof fetch>) => fetch(...args));
    const response = await fetchFn(
      `${baseUrl}${route}${search ? `?${search}` : ''}`,
      { method: 'GET', headers, signal: options?.signal },
    );
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return response;
  }
}
