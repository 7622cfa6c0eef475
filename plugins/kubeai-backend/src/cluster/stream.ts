/**
 * Long-lived GETs to the apiserver (watches, pod logs), with the connection settings of the
 * gateway's KubeConfig (`applyToHTTPSOptions`: CA / skipTLSVerify and the bearer token). Used only
 * by the cluster gateway (./ClusterGateway.ts); tokens never leave this module.
 */
import type { IncomingMessage } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

/** The part of a client-node KubeConfig this module needs. */
export interface StreamKubeConfig {
  getCurrentCluster(): { server: string } | null;
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

/** Query parameters; `undefined` values are left out. */
export type StreamQuery = Record<string, string | number | boolean | undefined>;

/** Options of {@link openStream}. */
export interface OpenStreamOptions {
  /** Aborts the request (and the body, once streaming). */
  signal?: AbortSignal;
  /** Fails when the response headers do not arrive within this many ms (default 15 000). */
  connectTimeoutMs?: number;
  /**
   * Destroys the body with an `IdleTimeoutError` when no bytes arrive for this many ms
   * (a half-open connection). Off by default.
   */
  idleTimeoutMs?: number;
}

/**
 * A failed streaming GET: `code` is the HTTP status (like client-node's ApiException, so
 * `toClusterError` maps it), `body` the parsed Kubernetes Status when there is one.
 */
export class StreamHttpError extends Error {
  constructor(readonly code: number, readonly body: unknown) {
    super(
      `HTTP ${code}${
        body && typeof body === 'object' && 'message' in body
          ? `: ${String((body as { message: unknown }).message)}`
          : ''
      }`,
    );
    this.name = 'StreamHttpError';
  }
}

/** Raised on a stream that stayed silent longer than `idleTimeoutMs`. */
export class IdleTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`no data for ${ms} ms`);
    this.name = 'IdleTimeoutError';
  }
}

/**
 * One TLS context per kubeconfig (cluster): every stream of a cluster shares it, instead of each
 * connection building its own (with Node's whole root certificate store when no CA is set).
 */
const secureContexts = new WeakMap<StreamKubeConfig, tls.SecureContext>();

function secureContextFor(
  kubeConfig: StreamKubeConfig,
  options: https.RequestOptions,
): tls.SecureContext {
  let context = secureContexts.get(kubeConfig);
  if (!context) {
    context = tls.createSecureContext({
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      pfx: options.pfx,
      passphrase: options.passphrase,
    });
    secureContexts.set(kubeConfig, context);
  }
  return context;
}

/** Builds `server + path?query`. */
export function streamUrl(server: string, path: string, query: StreamQuery) {
  const url = new URL(server.replace(/\/+$/, '') + path);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) {
      url.searchParams.set(key, String(value));
    }
  }
  return url;
}

async function readAll(res: IncomingMessage, limit = 64 * 1024) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    if (size < limit) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Opens a streaming GET and resolves with the response once a 2xx status arrives; the caller
 * consumes (or destroys) the body. Other statuses reject with {@link StreamHttpError}; network
 * failures reject with the socket error (with its `code`, e.g. `ECONNREFUSED`).
 */
export async function openStream(
  kubeConfig: StreamKubeConfig,
  path: string,
  query: StreamQuery,
  options: OpenStreamOptions = {},
): Promise<IncomingMessage> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new Error('no current cluster in the kubeconfig');
  }
  const url = streamUrl(cluster.server, path, query);
  const requestOptions: https.RequestOptions = {
    method: 'GET',
    headers: { Accept: 'application/json, */*' },
  };
  await kubeConfig.applyToHTTPSOptions(requestOptions);
  // one connection per stream: never share (or keep alive) a socket that may hang
  delete requestOptions.agent;
  requestOptions.agent = false;
  const transport = url.protocol === 'http:' ? http : https;
  if (transport === https) {
    (requestOptions as tls.ConnectionOptions).secureContext = secureContextFor(
      kubeConfig,
      requestOptions,
    );
  }

  return new Promise<IncomingMessage>((resolve, reject) => {
    let settled = false;
    const timers: { connect?: NodeJS.Timeout } = {};
    const fail = (error: unknown) => {
      if (!settled) {
        settled = true;
        reject(error);
      }
    };
    const req = transport.request(url, requestOptions, res => {
      clearTimeout(timers.connect);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        settled = true;
        res.socket?.setKeepAlive?.(true, 15_000);
        if (options.idleTimeoutMs && res.socket) {
          // a half-open connection: no bytes (not even a bookmark) for too long
          const idleMs = options.idleTimeoutMs;
          res.socket.setTimeout(idleMs, () =>
            res.destroy(new IdleTimeoutError(idleMs)),
          );
        }
        // the body's errors surface through the consumer; never crash on an unheard one
        res.on('error', () => undefined);
        resolve(res);
        return;
      }
      readAll(res).then(
        text => {
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = { message: text.slice(0, 500) };
          }
          fail(new StreamHttpError(status, body));
        },
        error => fail(error),
      );
    });
    const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    timers.connect = setTimeout(() => {
      const error = new Error(`no response within ${connectTimeoutMs} ms`);
      (error as { code?: string }).code = 'ETIMEDOUT';
      req.destroy(error);
    }, connectTimeoutMs);
    req.on('error', error => {
      clearTimeout(timers.connect);
      fail(error);
    });
    const signal = options.signal;
    if (signal) {
      const onAbort = () => {
        clearTimeout(timers.connect);
        const error = new Error('aborted');
        (error as { name: string }).name = 'AbortError';
        req.destroy(error);
      };
      if (signal.aborted) {
        onAbort();
      } else {
        signal.addEventListener('abort', onAbort, { once: true });
        // long-lived signals (an informer's) must not collect one listener per request
        req.once('close', () => signal.removeEventListener('abort', onAbort));
      }
    }
    req.end();
  });
}

/**
 * A plain GET answered with JSON (lists, discovery), on the cluster's shared TLS context. Fails like
 * {@link openStream}: StreamHttpError (with the HTTP `code` and the Status body) or the socket error.
 */
export async function getJson(
  kubeConfig: StreamKubeConfig,
  path: string,
  query: StreamQuery = {},
  options: { timeoutMs?: number } = {},
): Promise<any> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await openStream(kubeConfig, path, query, {
      signal: abort.signal,
      connectTimeoutMs: timeoutMs,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  } catch (error) {
    if (abort.signal.aborted) {
      const timeout = new Error(`no complete answer within ${timeoutMs} ms`);
      (timeout as { code?: string }).code = 'ETIMEDOUT';
      throw timeout;
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
