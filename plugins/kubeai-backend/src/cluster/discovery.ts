/**
 * Discovery for the gateway (./ClusterGateway.ts): which version of an API group serves a kind
 * (and under which plural resource name), and the URL paths of resolved resources. The gateway
 * caches the answers per cluster.
 */
import { NotFoundError } from '@backstage/errors';
import type { ResolvedResource } from './gatewayTypes';

/** A kind as a discovery document lists it. */
export interface DiscoveredResource {
  kind: string;
  /** Plural resource name (subresources contain a `/`). */
  name: string;
  namespaced?: boolean;
}

/**
 * The first of `preferredVersions` the cluster serves `kind` of `group` in, with its discovery
 * entry; undefined when none does (a group the cluster does not know serves nothing).
 * `getJson` GETs a discovery path (with the gateway's retries and error mapping).
 */
export async function discoverKind(
  getJson: (path: string) => Promise<any>,
  group: string,
  kind: string,
  preferredVersions: string[],
): Promise<{ version: string; resource: DiscoveredResource } | undefined> {
  let served: string[];
  try {
    const groupInfo = await getJson(group ? `/apis/${group}` : '/api');
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
    const list = await getJson(path);
    const found = (list?.resources ?? []).find(
      (r: DiscoveredResource) => r.kind === kind && !r.name.includes('/'),
    );
    if (found) {
      return { version, resource: found };
    }
  }
  return undefined;
}

/** `group/version`, or `version` for the core group. */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** The error when a cluster serves a kind in none of the versions asked for. */
export function notServedError(
  cluster: string,
  group: string,
  kind: string,
  preferredVersions: string[],
): NotFoundError {
  return new NotFoundError(
    `cluster "${cluster}" serves ${kind} in none of ${preferredVersions
      .map(v => apiVersionOf(group, v))
      .join(', ')}`,
  );
}

/** The URL path of a resource's collection, object or subresource. */
export function resourcePath(
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
