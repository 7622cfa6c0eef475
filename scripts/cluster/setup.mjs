// Setup inside the running cluster: the kubeconfig (admin and restricted contexts), the team
// namespace with RBAC for the restricted user, and the CRDs; then state.json is written.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ensureCrds } from './installCrds.mjs';
import { FIELD_MANAGER, caFor, createOrReplace } from './kubeApi.mjs';
import { RESTRICTED_USER } from './pki.mjs';
import { REPO_ROOT, clusterPaths, writeState } from './state.mjs';
import { progress } from './util.mjs';

export const CLUSTER_NAME = 'kubeai-local';
export const TEAM_NAMESPACE = 'team-a';

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
 * What {@link ensureRbac} creates, in order: [collection path, object, options] — the team namespace
 * (kept when present), read access to everything and full access to the team namespace for the
 * restricted user.
 */
export function rbacObjects() {
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
  return objects;
}

/** Ensures the team namespace and the restricted user's RBAC ({@link rbacObjects}). */
export async function ensureRbac(state) {
  for (const [collectionPath, obj, opts] of rbacObjects())
    await createOrReplace(state, collectionPath, obj, opts);
}

export async function ensureSetup(state) {
  const kubeconfig = writeKubeconfig(state);
  await ensureRbac(state);
  const crds = await ensureCrds(state);
  writeState(state);
  progress(
    `CRDs: ${crds.count} from ${
      crds.fallback ? path.relative(REPO_ROOT, crds.dir) : crds.dir
    } Established ` +
      `(${crds.created} created, ${crds.updated} updated, ${
        crds.unchanged
      } unchanged${crds.kept ? `, ${crds.kept} kept` : ''}); ` +
      `namespace ${TEAM_NAMESPACE} + RBAC for user '${RESTRICTED_USER}' ensured`,
  );
  return kubeconfig;
}
