/**
 * One watch request (`?watch=true`) through the cluster gateway: reads the newline-delimited
 * events, hands ADDED / MODIFIED / DELETED to the caller, follows BOOKMARKs, and tells how it
 * ended — closed by the server (continue from the last resourceVersion), `gone` (410: the
 * resourceVersion is too old, relist), or aborted. Network and HTTP failures reject.
 */
import { createInterface } from 'node:readline';
import type { KubeObject } from '../manifests/types';
import { ClusterGateway, type ResolvedResource } from './ClusterGateway';
import { StreamHttpError } from './stream';

/** A watch event the caller handles. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Options of {@link watchOnce}. */
export interface WatchOnceOptions {
  /** Continue after this resourceVersion (from a list or the last event / bookmark). */
  resourceVersion: string;
  labelSelector?: string;
  /** The server ends the watch after this many seconds (default 300). */
  timeoutSeconds?: number;
  /** Fail when no byte arrives for this long (default timeoutSeconds + 30 s). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called once the server accepted the watch. */
  onOpen?: () => void;
  /** Called for every object event, in order. */
  onEvent: (type: WatchEventType, object: KubeObject) => void;
  /** Called with the new resourceVersion after every event and bookmark. */
  onResourceVersion?: (resourceVersion: string) => void;
}

/** How a watch ended without an error. */
export interface WatchEnd {
  reason: 'closed' | 'gone' | 'aborted';
  /** The last resourceVersion seen (the start one when nothing came). */
  resourceVersion: string;
  events: number;
}

/** Runs one watch request until it ends (see the module comment). */
export async function watchOnce(
  gateway: ClusterGateway,
  cluster: string,
  resource: ResolvedResource,
  options: WatchOnceOptions,
): Promise<WatchEnd> {
  const timeoutSeconds = options.timeoutSeconds ?? 300;
  let resourceVersion = options.resourceVersion;
  let events = 0;
  let response;
  try {
    response = await gateway.stream(
      cluster,
      ClusterGateway.resourcePath(resource),
      {
        watch: 'true',
        allowWatchBookmarks: 'true',
        resourceVersion,
        labelSelector: options.labelSelector,
        timeoutSeconds,
      },
      {
        signal: options.signal,
        idleTimeoutMs: options.idleTimeoutMs ?? (timeoutSeconds + 30) * 1000,
      },
    );
  } catch (error) {
    if (options.signal?.aborted) {
      return { reason: 'aborted', resourceVersion, events };
    }
    if (error instanceof StreamHttpError && error.code === 410) {
      return { reason: 'gone', resourceVersion, events };
    }
    throw error;
  }
  options.onOpen?.();

  return new Promise<WatchEnd>((resolve, reject) => {
    let done = false;
    const lines = createInterface({ input: response, crlfDelay: Infinity });
    const finish = (result: WatchEnd | Error) => {
      if (done) return;
      done = true;
      lines.close();
      response.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    // readline re-emits the input's errors on the interface (and throws without a listener)
    lines.on('error', error => {
      if (options.signal?.aborted) {
        finish({ reason: 'aborted', resourceVersion, events });
      } else {
        finish(error);
      }
    });
    lines.on('line', line => {
      if (done || !line.trim()) return;
      let event: { type?: string; object?: any };
      try {
        event = JSON.parse(line);
      } catch {
        return; // a torn line of a dropped connection; the close follows
      }
      const object = event.object;
      switch (event.type) {
        case 'ADDED':
        case 'MODIFIED':
        case 'DELETED': {
          if (!object?.metadata) return;
          object.apiVersion = resource.apiVersion;
          object.kind = resource.kind;
          events++;
          options.onEvent(event.type, object as KubeObject);
          break;
        }
        case 'BOOKMARK':
          break;
        case 'ERROR': {
          const code = Number(object?.code);
          if (code === 410) {
            finish({ reason: 'gone', resourceVersion, events });
          } else {
            finish(new StreamHttpError(code || 500, object));
          }
          return;
        }
        default:
          return;
      }
      const rv = object?.metadata?.resourceVersion;
      if (rv) {
        resourceVersion = String(rv);
        options.onResourceVersion?.(resourceVersion);
      }
    });
    response.on('error', error => {
      if (options.signal?.aborted) {
        finish({ reason: 'aborted', resourceVersion, events });
      } else {
        finish(error);
      }
    });
    response.on('close', () => {
      // lines still buffered are emitted before readline's close
      setImmediate(() =>
        finish({
          reason: options.signal?.aborted ? 'aborted' : 'closed',
          resourceVersion,
          events,
        }),
      );
    });
  });
}
