// Setup inside the running cluster: the kubeconfig (admin, restricted and portal contexts), the team
// namespace with RBAC for the restricted user, the portal's own rights (everything but system:masters,
// and impersonation), the teams' namespaces (two labelled ones and those app-config's kubeai.tenancy
// gives owners) whose Backstage groups may write there only what the portal writes, the platform
// admins' cluster-wide role, and the CRDs; then state.json is written. All of it is applied again on
// every `start` (created or replaced), so a running control plane takes changes of it.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ensureCrds } from './installCrds.mjs';
import { FIELD_MANAGER, caFor, createOrReplace } from './kubeApi.mjs';
import { PORTAL_USER, RESTRICTED_USER } from './pki.mjs';
import { poolResources, portalResources, rulesFor } from './portalKinds.mjs';
import {
  DEFAULT_GROUP_PREFIX,
  DEFAULT_OWNER_KEY,
  readTenancy,
} from './tenancy.mjs';
import { REPO_ROOT, clusterPaths, writeState } from './state.mjs';
import { progress } from './util.mjs';

export const CLUSTER_NAME = 'kubeai-local';
export const TEAM_NAMESPACE = 'team-a';

/**
 * The teams of the example catalog and their namespaces: `kubeai.io/owner` names the owning group
 * (label values cannot hold `:` or `/`), and the group as the portal impersonates it
 * (`backstage:` + its entity ref, kubeai.tenancy.impersonation's default prefix) may edit there.
 */
export const TEAMS = [
  { namespace: 'cv-team', group: 'group:default/cv-team' },
  { namespace: 'search-reco', group: 'group:default/search-reco' },
];
export const OWNER_LABEL = DEFAULT_OWNER_KEY;
export const IMPERSONATED_GROUP_PREFIX = DEFAULT_GROUP_PREFIX;

/** The label value of a group ref: `group:default/cv-team` → `group-default-cv-team`. */
export const ownerLabelValue = ref => ref.replace(/[:/]/g, '-');

/**
 * What the namespace's Backstage group may do there (a RoleBinding makes it namespace-only): every
 * ordinary verb on what the portal writes (portalKinds.mjs), nothing else — not RBAC, Secrets or quotas.
 */
export const NAMESPACE_EDIT_ROLE = 'kubeai:namespace-edit';
/**
 * The platform admins' role, bound cluster-wide (kubeai.tenancy.platformAdmins): what the teams may
 * do, in every namespace, plus reading everything and managing namespaces and their RoleBindings.
 */
export const PLATFORM_ADMIN_ROLE = 'kubeai:platform-admin';
/** The portal's own rights: every ordinary verb on everything — not impersonate, escalate, bind. */
export const PORTAL_ROLE = 'kubeai:portal';
/** Impersonating users and groups: how the portal makes the cluster's RBAC decide for the caller. */
export const IMPERSONATOR_ROLE = 'kubeai:impersonator';
const ORDINARY_VERBS = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
];
/** The kubeconfig of the state (admin context current, restricted context); `ca`: the CA's PEM or null. */
export function kubeconfigFor(state, ca) {
  const cluster = { server: state.server };
  if (ca) cluster['certificate-authority-data'] = ca.toString('base64');
  else cluster['insecure-skip-tls-verify'] = true;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CLUSTER_NAME, cluster }],
    users: [
      { name: 'kubeai-admin', user: { token: state.tokens.admin } },
      { name: 'kubeai-restricted', user: { token: state.tokens.restricted } },
      ...(state.tokens.portal
        ? [{ name: 'kubeai-portal', user: { token: state.tokens.portal } }]
        : []),
    ],
    contexts: [
      {
        name: 'kubeai-admin',
        context: { cluster: CLUSTER_NAME, user: 'kubeai-admin' },
      },
      {
        name: 'kubeai-restricted',
        context: { cluster: CLUSTER_NAME, user: 'kubeai-restricted' },
      },
      ...(state.tokens.portal
        ? [
            {
              name: 'kubeai-portal',
              context: { cluster: CLUSTER_NAME, user: 'kubeai-portal' },
            },
          ]
        : []),
    ],
    'current-context': 'kubeai-admin',
    preferences: {},
  };
}

/** Writes the state's kubeconfig (mode 0600, atomically) and returns its path. */
export function writeKubeconfig(state) {
  const p = clusterPaths();
  const config = kubeconfigFor(state, caFor(state));
  const tmp = `${p.kubeconfig}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, YAML.stringify(config), { mode: 0o600 });
  fs.renameSync(tmp, p.kubeconfig);
  return p.kubeconfig;
}

/**
 * What the tenancy's RBAC is derived from: `resources`, what the portal writes (the workload table,
 * portalKinds.mjs), `pools`, the Kueue objects of POST /pools (the pool table, platform admins
 * only), and `tenancy`, kubeai.tenancy of the app-config files (tenancy.mjs).
 */
export async function clusterAccess() {
  return {
    resources: await portalResources(),
    pools: await poolResources(),
    tenancy: readTenancy(),
  };
}

/**
 * What {@link ensureRbac} creates, in order: [collection path, object, options] — the team namespace
 * (kept when present), read access to everything and full access to the team namespace for the
 * restricted user; then {@link portalRbacObjects}, {@link teamObjects} and
 * {@link platformAdminObjects} (`access`: {@link clusterAccess}).
 */
export function rbacObjects(access) {
  const objects = [
    [
      '/api/v1/namespaces',
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: TEAM_NAMESPACE },
      },
      { replace: false },
    ],
  ];
  const labels = { 'app.kubernetes.io/managed-by': FIELD_MANAGER };
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  objects.push([
    `${rbac}/clusterroles`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'kubeai:read-all', labels },
      rules: [
        { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
        { nonResourceURLs: ['*'], verbs: ['get'] },
      ],
    },
  ]);
  objects.push([
    `${rbac}/clusterrolebindings`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'kubeai:restricted-read-all', labels },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'kubeai:read-all',
      },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'User',
          name: RESTRICTED_USER,
        },
      ],
    },
  ]);
  objects.push([
    `${rbac}/namespaces/${TEAM_NAMESPACE}/roles`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'kubeai:team-edit', namespace: TEAM_NAMESPACE, labels },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    },
  ]);
  objects.push([
    `${rbac}/namespaces/${TEAM_NAMESPACE}/rolebindings`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {
        name: 'kubeai:restricted-team-edit',
        namespace: TEAM_NAMESPACE,
        labels,
      },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'kubeai:team-edit',
      },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'User',
          name: RESTRICTED_USER,
        },
      ],
    },
  ]);
  return [
    ...objects,
    ...portalRbacObjects(),
    ...teamObjects(access),
    ...platformAdminObjects(access),
  ];
}

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const managedLabels = { 'app.kubernetes.io/managed-by': FIELD_MANAGER };
const roleRef = (kind, name) => ({
  apiGroup: 'rbac.authorization.k8s.io',
  kind,
  name,
});
const subject = (kind, name) => ({
  apiGroup: 'rbac.authorization.k8s.io',
  kind,
  name,
});

/**
 * The portal's identity (KUBEAI_CLUSTER_TOKEN of `env`): not in system:masters, so what it may do
 * is what RBAC grants — every ordinary verb on every resource (it writes in any namespace when
 * impersonation is off, reads everything for the informers) and, bound separately, `impersonate`
 * on users and groups.
 */
export function portalRbacObjects() {
  const clusterRole = (name, rules) => [
    `${RBAC}/clusterroles`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels: managedLabels },
      rules,
    },
  ];
  const portalBinding = role => [
    `${RBAC}/clusterrolebindings`,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: role, labels: managedLabels },
      roleRef: roleRef('ClusterRole', role),
      subjects: [subject('User', PORTAL_USER)],
    },
  ];
  return [
    clusterRole(PORTAL_ROLE, [
      { apiGroups: ['*'], resources: ['*'], verbs: ORDINARY_VERBS },
      { nonResourceURLs: ['*'], verbs: ['get'] },
    ]),
    portalBinding(PORTAL_ROLE),
    clusterRole(IMPERSONATOR_ROLE, [
      {
        apiGroups: [''],
        resources: ['users', 'groups'],
        verbs: ['impersonate'],
      },
    ]),
    portalBinding(IMPERSONATOR_ROLE),
  ];
}

/**
 * The teams' namespaces and who owns them: {@link TEAMS} (owned by their label) and the namespaces
 * kubeai.tenancy.namespaces gives owners in cluster `local` (the examples' cv-serving, …), whose
 * owner wins as it does in the portal. [{ namespace, owner }], in that order.
 */
export function teamNamespaces(tenancy) {
  const owners = new Map(TEAMS.map(t => [t.namespace, t.group]));
  for (const { namespace, owner } of tenancy.namespaces)
    owners.set(namespace, owner);
  return [...owners].map(([namespace, owner]) => ({ namespace, owner }));
}

/**
 * The teams' namespaces (labelled with their owner; labels merged into an existing namespace) and
 * a RoleBinding per namespace that lets the owner's impersonated group write there, and only there,
 * what the portal writes ({@link NAMESPACE_EDIT_ROLE}: explicit rules, the built-in `edit` is empty).
 */
export function teamObjects({ resources, tenancy }) {
  const objects = [
    [
      `${RBAC}/clusterroles`,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: NAMESPACE_EDIT_ROLE, labels: managedLabels },
        rules: rulesFor(resources, ORDINARY_VERBS),
      },
    ],
  ];
  for (const { namespace, owner } of teamNamespaces(tenancy)) {
    objects.push(
      [
        '/api/v1/namespaces',
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: {
            name: namespace,
            labels: { [tenancy.ownerKey]: ownerLabelValue(owner) },
          },
        },
        { replace: 'labels' },
      ],
      [
        `${RBAC}/namespaces/${namespace}/rolebindings`,
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: {
            name: NAMESPACE_EDIT_ROLE,
            namespace,
            labels: managedLabels,
          },
          roleRef: roleRef('ClusterRole', NAMESPACE_EDIT_ROLE),
          subjects: [subject('Group', `${tenancy.groupPrefix}${owner}`)],
        },
      ],
    );
  }
  return objects;
}

/**
 * The platform admins (kubeai.tenancy.platformAdmins, as the portal impersonates their groups):
 * {@link PLATFORM_ADMIN_ROLE} in every namespace, by one ClusterRoleBinding — with the pools and
 * quotas (`pools`: cluster-scoped ResourceFlavors, ClusterQueues, WorkloadPriorityClasses and the
 * LocalQueues in the teams' namespaces), which no team may write.
 */
export function platformAdminObjects({ resources, pools = [], tenancy }) {
  return [
    [
      `${RBAC}/clusterroles`,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: PLATFORM_ADMIN_ROLE, labels: managedLabels },
        rules: [
          {
            apiGroups: ['*'],
            resources: ['*'],
            verbs: ['get', 'list', 'watch'],
          },
          ...rulesFor(resources, ORDINARY_VERBS),
          ...rulesFor(pools, ORDINARY_VERBS),
          { apiGroups: [''], resources: ['namespaces'], verbs: ORDINARY_VERBS },
          {
            apiGroups: ['rbac.authorization.k8s.io'],
            resources: ['rolebindings'],
            verbs: ORDINARY_VERBS,
          },
        ],
      },
    ],
    [
      `${RBAC}/clusterrolebindings`,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: PLATFORM_ADMIN_ROLE, labels: managedLabels },
        roleRef: roleRef('ClusterRole', PLATFORM_ADMIN_ROLE),
        subjects: tenancy.platformAdmins.map(group =>
          subject('Group', `${tenancy.groupPrefix}${group}`),
        ),
      },
    ],
  ];
}

/** Ensures the namespaces and RBAC of {@link rbacObjects}; returns the {@link clusterAccess} used. */
export async function ensureRbac(state) {
  const access = await clusterAccess();
  for (const [collectionPath, obj, opts] of rbacObjects(access))
    await createOrReplace(state, collectionPath, obj, opts);
  return access;
}

export async function ensureSetup(state) {
  const kubeconfig = writeKubeconfig(state);
  const { tenancy } = await ensureRbac(state);
  const crds = await ensureCrds(state);
  writeState(state);
  progress(
    `CRDs: ${crds.count} from ${
      crds.fallback ? path.relative(REPO_ROOT, crds.dir) : crds.dir
    } Established ` +
      `(${crds.created} created, ${crds.updated} updated, ${
        crds.unchanged
      } unchanged${crds.kept ? `, ${crds.kept} kept` : ''}); ` +
      `namespace ${TEAM_NAMESPACE} + RBAC for user '${RESTRICTED_USER}', the portal's identity ` +
      `'${PORTAL_USER}' (may impersonate), team namespaces ${teamNamespaces(
        tenancy,
      )
        .map(t => t.namespace)
        .join(', ')} and platform admins ${
        tenancy.platformAdmins.join(', ') || '(none configured)'
      } ensured`,
  );
  return kubeconfig;
}
