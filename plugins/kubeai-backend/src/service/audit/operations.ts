/**
 * The mutating operations of the spec, matched by method and path before Express routes the
 * request: the audit middleware runs ahead of body parsing, so that a body refused there (not
 * JSON, too large) is audited as the operation it was sent to.
 */
import { kubeaiOpenApiSpec } from '@kubeai/plugin-kubeai-node';

/** The methods that change something; only these are audited. */
export const MUTATING_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type MutatingMethod = (typeof MUTATING_METHODS)[number];

export const isMutating = (method: string): method is MutatingMethod =>
  (MUTATING_METHODS as readonly string[]).includes(method);

/** A mutating operation of the spec and the path parameters of one request to it. */
export interface MatchedOperation {
  operationId: string;
  method: MutatingMethod;
  params: Record<string, string>;
}

interface Matcher {
  operationId: string;
  method: MutatingMethod;
  pattern: RegExp;
  names: string[];
  /** Literal segments first: `/jobs/batch` wins over a `/jobs/{name}` of the same length. */
  literals: number;
}

function matchersOf(paths: Record<string, Record<string, unknown>>): Matcher[] {
  const out: Matcher[] = [];
  for (const [path, item] of Object.entries(paths)) {
    const names: string[] = [];
    const source = path
      .split('/')
      .map(segment => {
        const param = /^\{(.+)\}$/.exec(segment);
        if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(param[1]);
        return '([^/]+)';
      })
      .join('/');
    for (const method of MUTATING_METHODS) {
      const op = item[method.toLowerCase()] as
        | { operationId?: string }
        | undefined;
      if (!op?.operationId) continue;
      out.push({
        operationId: op.operationId,
        method,
        pattern: new RegExp(`^${source}/?$`),
        names,
        literals: path.split('/').length - names.length,
      });
    }
  }
  return out.sort((a, b) => b.literals - a.literals);
}

const matchers = matchersOf(
  kubeaiOpenApiSpec.paths as unknown as Record<string, Record<string, unknown>>,
);

/** Every mutating operationId of the spec. */
export const mutatingOperationIds: string[] = matchers.map(m => m.operationId);

/** The mutating operation a request is for (`path`: below the plugin's mount point), if any. */
export function matchOperation(
  method: string,
  path: string,
): MatchedOperation | undefined {
  for (const m of matchers) {
    if (m.method !== method) continue;
    const found = m.pattern.exec(path);
    if (!found) continue;
    const params: Record<string, string> = {};
    m.names.forEach((name, i) => {
      params[name] = decode(found[i + 1]);
    });
    return { operationId: m.operationId, method: m.method, params };
  }
  return undefined;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
