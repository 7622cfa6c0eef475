// What the portal writes in a namespace, read from the workload table the backend itself uses
// (plugins/kubeai-common/src/workloads.ts: WORKLOADS, DATA_OBJECTS and the companions deleted with
// them), so that a kind added there is in the teams' RBAC at the next `start` — no copy kept here.
// The control plane runs no aggregation controller, so the built-in `edit` / `admin` ClusterRoles
// are empty and the teams' roles must list these resources themselves.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './state.mjs';
import { ClusterError } from './util.mjs';

export const WORKLOAD_TABLE = path.join(
  REPO_ROOT,
  'plugins/kubeai-common/src/workloads.ts',
);

/**
 * The module of the workload table (its exports: WORKLOADS, DATA_OBJECTS, …). The file is
 * TypeScript without imports: transpiled with the repository's `typescript` (loaded only here, so
 * `status` and `env` do not pay for it) and evaluated from memory.
 */
export async function loadWorkloadTable(file = WORKLOAD_TABLE) {
  const where = path.relative(REPO_ROOT, file);
  let ts;
  try {
    ts = (await import('typescript')).default;
  } catch (e) {
    throw new ClusterError(
      `cannot read the workload table ${where} for the teams' RBAC: the typescript package is missing ` +
        `(run \`yarn install\`): ${e?.message ?? e}`,
    );
  }
  const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
    },
  });
  try {
    return await import(
      `data:text/javascript;base64,${Buffer.from(outputText).toString(
        'base64',
      )}`
    );
  } catch (e) {
    throw new ClusterError(
      `cannot evaluate the workload table ${where} for the teams' RBAC (it must stay free of imports): ${
        e?.message ?? e
      }`,
    );
  }
}

/**
 * The resource name of a kind the table gives without one (companions): the apiserver's default
 * plural of a CRD kind — lower case, `-s`, `-es` after s/x/ch/sh, `-ies` after a consonant + y.
 */
export function pluralOf(kind) {
  const lower = kind.toLowerCase();
  if (/(s|x|ch|sh)$/.test(lower)) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

/**
 * The resources of a workload table the portal creates, updates and deletes, by API group:
 * `[{ group, resources }]`, groups and resources sorted (the core group is `''`).
 */
export function writtenResources(table) {
  const byGroup = new Map();
  const add = (group, resource) => {
    if (!byGroup.has(group)) byGroup.set(group, new Set());
    byGroup.get(group).add(resource);
  };
  const specs = [
    ...Object.values(table.WORKLOADS ?? {}),
    ...Object.values(table.DATA_OBJECTS ?? {}),
  ];
  if (specs.length === 0) {
    throw new ClusterError(
      'the workload table has no WORKLOADS / DATA_OBJECTS: cannot derive the teams’ RBAC',
    );
  }
  for (const spec of specs) {
    add(spec.group, spec.plural);
    for (const companion of spec.companions ?? [])
      add(companion.group, pluralOf(companion.kind));
  }
  return [...byGroup.keys()].sort().map(group => ({
    group,
    resources: [...byGroup.get(group)].sort(),
  }));
}

/** RBAC rules granting `verbs` on those resources, one rule per API group. */
export function rulesFor(resources, verbs) {
  return resources.map(({ group, resources: names }) => ({
    apiGroups: [group],
    resources: names,
    verbs,
  }));
}

/** {@link writtenResources} of the repository's workload table. */
export async function portalResources(file = WORKLOAD_TABLE) {
  return writtenResources(await loadWorkloadTable(file));
}

export const POOL_TABLE = path.join(
  REPO_ROOT,
  'plugins/kubeai-common/src/pools.ts',
);

/**
 * The resources of the pools and quotas a platform admin writes through `POST /pools` (the Kueue
 * kinds of POOL_OBJECTS, plugins/kubeai-common/src/pools.ts), in {@link writtenResources}' shape.
 * Only the platform-admin role gets them: a team's own LocalQueue could submit to any ClusterQueue.
 */
export async function poolResources(file = POOL_TABLE) {
  const { POOL_OBJECTS } = await loadWorkloadTable(file);
  const specs = Object.values(POOL_OBJECTS ?? {});
  if (specs.length === 0) {
    throw new ClusterError(
      'the pool table has no POOL_OBJECTS: cannot derive the platform admins’ RBAC',
    );
  }
  const byGroup = new Map();
  for (const { group, plural } of specs) {
    if (!byGroup.has(group)) byGroup.set(group, new Set());
    byGroup.get(group).add(plural);
  }
  return [...byGroup.keys()].sort().map(group => ({
    group,
    resources: [...byGroup.get(group)].sort(),
  }));
}
