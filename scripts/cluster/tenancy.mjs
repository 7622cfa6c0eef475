// `kubeai.tenancy` of the repository's app-config files, as the local control plane needs it: the
// namespaces the config gives owners in cluster `local` (created, labelled and bound to their owner
// here, so the examples' namespaces exist and RBAC agrees with the portal's policy) and the
// platform-admin groups (bound cluster-wide). Read from the files themselves so the two cannot
// drift apart.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from './state.mjs';
import { ClusterError } from './util.mjs';

/** The cluster name app-config gives this control plane (`kubernetes.clusterLocatorMethods`). */
export const LOCAL_CLUSTER = 'local';
export const DEFAULT_OWNER_KEY = 'kubeai.io/owner';
export const DEFAULT_GROUP_PREFIX = 'backstage:';

/**
 * The files read, in Backstage's order (a later one wins): development, local overrides, and the
 * production config that turns impersonation on (scripts/e2e.sh runs with both).
 */
export const APP_CONFIG_FILES = [
  'app-config.yaml',
  'app-config.local.yaml',
  'app-config.production.yaml',
].map(f => path.join(REPO_ROOT, f));

/**
 * A group ref as the backend reads one (plugins/kubeai-backend/src/tenancy/tenancyConfig.ts):
 * `group:default/cv-team`, `default/cv-team` or a bare `cv-team` (default namespace); lower case.
 */
export function groupRef(value, where) {
  const text = String(value ?? '')
    .trim()
    .toLowerCase();
  const m =
    /^(?:(group):)?(?:([a-z0-9][-_.a-z0-9]*)\/)?([a-z0-9][-_.a-z0-9]*)$/.exec(
      text,
    );
  if (!m) throw new ClusterError(`${where}: not a group reference: '${value}'`);
  return `group:${m[2] ?? 'default'}/${m[3]}`;
}

/**
 * The tenancy of config objects (parsed app-config files, later ones winning): `ownerKey`,
 * `groupPrefix` (of impersonation), `namespaces` ([{ namespace, owner }] of cluster `local`, a later
 * file's owner winning) and `platformAdmins` (group refs of every file: the control plane serves the
 * development and the production config alike).
 */
export function tenancyOf(configs) {
  let ownerKey = DEFAULT_OWNER_KEY;
  let groupPrefix = DEFAULT_GROUP_PREFIX;
  const owners = new Map();
  const admins = new Set();
  for (const { file, config } of configs) {
    const tenancy = config?.kubeai?.tenancy;
    if (!tenancy) continue;
    const where = `${path.relative(REPO_ROOT, file)}: kubeai.tenancy`;
    if (typeof tenancy.ownerKey === 'string') ownerKey = tenancy.ownerKey;
    if (typeof tenancy.impersonation?.groupPrefix === 'string')
      groupPrefix = tenancy.impersonation.groupPrefix;
    (tenancy.namespaces ?? []).forEach((entry, i) => {
      if (entry?.cluster !== LOCAL_CLUSTER) return;
      owners.set(
        entry.namespace,
        groupRef(entry.owner, `${where}.namespaces[${i}].owner`),
      );
    });
    (tenancy.platformAdmins ?? []).forEach((ref, i) =>
      admins.add(groupRef(ref, `${where}.platformAdmins[${i}]`)),
    );
  }
  return {
    ownerKey,
    groupPrefix,
    namespaces: [...owners].map(([namespace, owner]) => ({ namespace, owner })),
    platformAdmins: [...admins].sort(),
  };
}

/** {@link tenancyOf} the app-config files that exist. */
export function readTenancy(files = APP_CONFIG_FILES) {
  return tenancyOf(
    files
      .filter(file => fs.existsSync(file))
      .map(file => {
        try {
          return { file, config: YAML.parse(fs.readFileSync(file, 'utf8')) };
        } catch (e) {
          throw new ClusterError(
            `cannot read ${path.relative(REPO_ROOT, file)}: ${e?.message ?? e}`,
          );
        }
      }),
  );
}
