/**
 * Maps what the apiserver (or the network) answered to @backstage/errors, with messages that say
 * what KubeAI tried where, and never contain a credential.
 */
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';

/** One invalid field, from the apiserver's Status `details.causes`. */
export interface FieldCause {
  /** Field path such as `spec.predictor.model.modelFormat.name` (may be empty). */
  field: string;
  message: string;
}

/**
 * An InputError for an object the apiserver rejected as invalid (HTTP 422), carrying the field
 * causes. `name` stays `InputError`, so Backstage's error handler answers 400 with `causes` in the
 * serialized error.
 */
export class ClusterInputError extends InputError {
  readonly causes: FieldCause[];

  constructor(message: string, causes: FieldCause[]) {
    super(message);
    this.causes = causes;
  }
}

/** What the gateway was doing when a call failed. */
export interface ClusterCallContext {
  cluster: string;
  /** `apply`, `get`, `list`, `delete`, `discover`. */
  verb: string;
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
}

/** Kubernetes `Status` as returned in error bodies. */
interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: Array<{ reason?: string; message?: string; field?: string }>;
  };
}

/** Node / fetch error codes that mean "try again". */
export const TRANSIENT_ERROR_CODES = new Set(['ECONNRESET', 'ETIMEDOUT']);

/** HTTP status of an `ApiException`-like error, if it is one. */
export function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' && code >= 100 && code < 600
    ? code
    : undefined;
}

/** The system error code (`ECONNRESET`, …) of a network error, if it is one. */
export function systemCodeOf(error: unknown): string | undefined {
  for (let e: any = error, depth = 0; e && depth < 4; e = e.cause, depth++) {
    if (typeof e.code === 'string') {
      return e.code;
    }
    if (typeof e.errno === 'string') {
      return e.errno;
    }
  }
  return undefined;
}

/** True for failures worth retrying: HTTP 429 and 5xx (but 501), ECONNRESET, ETIMEDOUT. */
export function isTransient(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status !== undefined) {
    return status === 429 || (status >= 500 && status !== 501);
  }
  const code = systemCodeOf(error);
  return code !== undefined && TRANSIENT_ERROR_CODES.has(code);
}

/** Replaces every occurrence of the secrets in `text`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) {
      out = out.split(secret).join('[redacted]');
    }
  }
  // bearer tokens of any kind, should one ever appear in a message
  return out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1[redacted]');
}

function statusOf(error: unknown): KubeStatus | undefined {
  const body = (error as { body?: unknown })?.body;
  if (!body) {
    return undefined;
  }
  if (typeof body === 'object') {
    return body as KubeStatus;
  }
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body);
      return parsed && typeof parsed === 'object' ? parsed : undefined;
    } catch {
      return { message: body.slice(0, 500) };
    }
  }
  return undefined;
}

/** Plural resource name for messages: from the Status, else a guess from the kind. */
function resourceName(ctx: ClusterCallContext, status?: KubeStatus): string {
  if (status?.details?.kind) {
    return status.details.kind;
  }
  if (!ctx.kind) {
    return 'objects';
  }
  const lower = ctx.kind.toLowerCase();
  if (lower.endsWith('s')) {
    return `${lower}es`;
  }
  if (lower.endsWith('y')) {
    return `${lower.slice(0, -1)}ies`;
  }
  return `${lower}s`;
}

function where(ctx: ClusterCallContext): string {
  return ctx.namespace
    ? `in namespace "${ctx.namespace}" of cluster "${ctx.cluster}"`
    : `of cluster "${ctx.cluster}"`;
}

function what(ctx: ClusterCallContext): string {
  const kind = ctx.kind ?? 'object';
  return ctx.name ? `${kind} "${ctx.name}"` : kind;
}

const CLUSTER_STATUS = Symbol('kubeai.clusterStatus');

/**
 * Turns a failed call into a Backstage error:
 * 403 → NotAllowedError naming verb, resource and namespace; 404 → NotFoundError;
 * 409 → ConflictError; 422 → {@link ClusterInputError} with the field causes; other 4xx →
 * InputError; 401, 429, 5xx and network failures → ServiceUnavailableError. Messages are passed
 * through {@link redact}.
 */
export function toClusterError(
  error: unknown,
  ctx: ClusterCallContext,
  secrets: readonly string[],
): Error {
  const mapped = mapClusterError(error, ctx, secrets);
  // what the cluster answered (503: it did not answer), e.g. for the per-item results of a batch
  Object.defineProperty(mapped, CLUSTER_STATUS, {
    value: httpStatusOf(error) ?? 503,
    enumerable: false,
  });
  return mapped;
}

/**
 * The HTTP status of an answer that was not the cluster's success: the error's own `statusCode`
 * (the portal's 422s), else what the apiserver answered (503 when it could not be reached), else
 * 500. Used where an outcome is reported per item (a batch's 207), not answered as the response.
 */
export function clusterAnswerStatus(error: unknown): number {
  const own = (error as { statusCode?: unknown })?.statusCode;
  if (typeof own === 'number') return own;
  const answered = (error as { [CLUSTER_STATUS]?: number })?.[CLUSTER_STATUS];
  return answered ?? 500;
}

function mapClusterError(
  error: unknown,
  ctx: ClusterCallContext,
  secrets: readonly string[],
): Error {
  const clean = (message: string) => redact(message, secrets);
  const status = httpStatusOf(error);
  const body = statusOf(error);
  const serverMessage = body?.message ? clean(body.message) : undefined;

  const message = error instanceof Error ? error.message : String(error);
  // client-node's discovery of the kind's resource (KubernetesObjectApi) found nothing
  if (
    /Unrecognized API version and kind/.test(message) ||
    (status === 404 && /Failed to fetch resource metadata/.test(message))
  ) {
    return new NotFoundError(
      clean(
        `cluster "${ctx.cluster}" does not serve ${ctx.kind ?? 'this kind'}${
          ctx.apiVersion ? ` in ${ctx.apiVersion}` : ''
        } (is its CRD installed?)`,
      ),
    );
  }

  if (status === undefined) {
    const code = systemCodeOf(error);
    return new ServiceUnavailableError(
      clean(
        `cannot reach cluster "${ctx.cluster}" to ${ctx.verb} ${resourceName(
          ctx,
        )}: ${code ?? message}`,
      ),
    );
  }

  switch (status) {
    case 403:
      return new NotAllowedError(
        clean(
          `kubeai cannot ${ctx.verb} ${resourceName(ctx, body)} ${where(
            ctx,
          )}: forbidden`,
        ),
      );
    case 404:
      return new NotFoundError(
        clean(
          `${what(ctx)} not found ${where(ctx)}${
            serverMessage ? ` (${serverMessage})` : ''
          }`,
        ),
      );
    case 409:
      return new ConflictError(
        clean(
          `conflict on ${what(ctx)} ${where(ctx)}: ${
            serverMessage ?? 'conflict'
          }`,
        ),
      );
    case 422: {
      const causes: FieldCause[] = (body?.details?.causes ?? []).map(c => ({
        field: c.field ?? '',
        message: clean(c.message ?? c.reason ?? 'invalid'),
      }));
      const summary = causes.length
        ? causes
            .map(c => (c.field ? `${c.field}: ${c.message}` : c.message))
            .join('; ')
        : serverMessage ?? 'invalid';
      return new ClusterInputError(
        clean(`${what(ctx)} is invalid ${where(ctx)}: ${summary}`),
        causes,
      );
    }
    case 401:
      return new ServiceUnavailableError(
        clean(
          `cluster "${ctx.cluster}" rejected kubeai's credentials (401); check its serviceAccountToken`,
        ),
      );
    default:
      if (status >= 400 && status < 500 && status !== 429) {
        return new InputError(
          clean(
            `cannot ${ctx.verb} ${what(ctx)} ${where(ctx)}: ${
              serverMessage ?? `HTTP ${status}`
            }`,
          ),
        );
      }
      return new ServiceUnavailableError(
        clean(
          `cluster "${ctx.cluster}" failed to ${ctx.verb} ${what(
            ctx,
          )} (HTTP ${status})${serverMessage ? `: ${serverMessage}` : ''}`,
        ),
      );
  }
}
