import { ResponseError } from '@backstage/errors';
import type { KubeaiApi, KubeaiRequestOptions } from './KubeaiApi';
import {
  KubeaiOperationsClient,
  type KubeaiOperationRequest,
} from './client.generated';
import type { GetRunLogsQuery } from './types.generated';

/** The part of Backstage's `DiscoveryApi` / `DiscoveryService` the client needs. */
export interface KubeaiDiscoveryApi {
  getBaseUrl(pluginId: string): Promise<string>;
}

/** The part of Backstage's `FetchApi` the client needs (the global `fetch` fits too). */
export interface KubeaiFetchApi {
  fetch: typeof fetch;
}

/** Options of {@link KubeaiClient}. */
export interface KubeaiClientOptions {
  discoveryApi: KubeaiDiscoveryApi;
  /** Defaults to the global `fetch`. */
  fetchApi?: KubeaiFetchApi;
}

type Transport = Omit<KubeaiOperationRequest, 'responseType'>;

/**
 * Typed client of the KubeAI API, for the frontend (`discoveryApi`, `fetchApi` from the app) and for
 * backends (`discovery` service, global fetch, and `options.token` per call).
 *
 * The methods, one per operationId of the OpenAPI spec, are generated (`KubeaiOperationsClient`
 * in `client.generated.ts`, by `yarn workspace @kubeai/plugin-kubeai-backend generate:openapi`);
 * this class is their transport (base URL, token, JSON, errors) and adds `followRunLogs`.
 */
export class KubeaiClient extends KubeaiOperationsClient implements KubeaiApi {
  readonly #discoveryApi: KubeaiDiscoveryApi;
  readonly #fetchApi: KubeaiFetchApi;

  constructor(options: KubeaiClientOptions) {
    super();
    this.#discoveryApi = options.discoveryApi;
    this.#fetchApi = options.fetchApi ?? { fetch: (...a) => fetch(...a) };
  }

  async followRunLogs(
    id: string,
    query?: Omit<GetRunLogsQuery, 'follow'>,
    options?: KubeaiRequestOptions & { signal?: AbortSignal },
  ): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#fetch(
      {
        method: 'GET',
        path: `/runs/${encodeURIComponent(id)}/logs`,
        query: { ...query, follow: true },
      },
      options,
    );
    if (!response.body) {
      throw new Error('the logs response has no body');
    }
    return response.body;
  }

  protected async request<T>(
    request: KubeaiOperationRequest,
    options?: KubeaiRequestOptions,
  ): Promise<T> {
    const response = await this.#fetch(request, options);
    return (
      request.responseType === 'text'
        ? await response.text()
        : await response.json()
    ) as T;
  }

  /** The response of a request; a ResponseError (status, the server's message) when not ok. */
  async #fetch(
    request: Transport,
    options?: KubeaiRequestOptions & { signal?: AbortSignal },
  ): Promise<Response> {
    const baseUrl = await this.#discoveryApi.getBaseUrl('kubeai');
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) params.append(key, String(value));
    }
    const search = params.toString();
    const headers: Record<string, string> = {};
    if (request.body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    if (options?.token) {
      headers.Authorization = `Bearer ${options.token}`;
    }
    const response = await this.#fetchApi.fetch(
      `${baseUrl}${request.path}${search ? `?${search}` : ''}`,
      {
        method: request.method,
        headers,
        body:
          request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: options?.signal,
      },
    );
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return response;
  }
}
