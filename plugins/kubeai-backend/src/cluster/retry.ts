/**
 * Retries of the gateway's cluster calls (./ClusterGateway.ts): only transient failures (HTTP 429
 * / 5xx, ECONNRESET, ETIMEDOUT) are retried, with exponential backoff or the server's
 * `Retry-After`; the final failure becomes a @backstage/errors error without credentials.
 */
import type { GatewayLogger } from './config';
import { isTransient, toClusterError, type ClusterCallContext } from './errors';
import type { RetryOptions } from './gatewayTypes';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** The retry policy with its defaults (3 retries, 200 ms doubling, at most 5 s). */
export function retryPolicy(options?: RetryOptions): Required<RetryOptions> {
  return {
    retries: options?.retries ?? 3,
    baseDelayMs: options?.baseDelayMs ?? 200,
    maxDelayMs: options?.maxDelayMs ?? 5000,
  };
}

/** Delay before retry `attempt + 1`: `Retry-After` when the server sent one, else exponential. */
export function backoffDelay(
  retry: Required<RetryOptions>,
  attempt: number,
  error: unknown,
): number {
  const headers = (error as { headers?: Record<string, string> })?.headers;
  const retryAfter = Number(headers?.['retry-after']);
  const exponential = retry.baseDelayMs * 2 ** attempt;
  const delay =
    Number.isFinite(retryAfter) && retryAfter > 0
      ? retryAfter * 1000
      : exponential;
  return Math.min(delay, retry.maxDelayMs);
}

/** Runs a call with retries of transient failures, mapping the final error. */
export async function callWithRetry<T>(
  ctx: ClusterCallContext,
  fn: () => Promise<T>,
  options: {
    retry: Required<RetryOptions>;
    logger: GatewayLogger;
    /** Credentials that must not appear in error messages. */
    secrets: readonly string[];
  },
): Promise<T> {
  const { retry, logger, secrets } = options;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt < retry.retries && isTransient(error)) {
        const delay = backoffDelay(retry, attempt, error);
        logger.warn(
          `kubeai: transient failure to ${ctx.verb} ${
            ctx.kind ?? ''
          } in cluster ${ctx.cluster}, retry ${attempt + 1}/${
            retry.retries
          } in ${delay} ms`,
        );
        await sleep(delay);
        continue;
      }
      const mapped = toClusterError(error, ctx, secrets);
      logger.debug(
        `kubeai cluster call failed: ${mapped.name}: ${mapped.message}`,
      );
      throw mapped;
    }
  }
}
