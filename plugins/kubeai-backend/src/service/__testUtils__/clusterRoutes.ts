/*
 * Test helpers of the cluster routes: the local control plane (`yarn cluster:start`) as
 * `kubernetes.clusterLocatorMethods` config, and a lister of everything KubeAI may have created in
 * a namespace (to prove that a refused request left nothing behind).
 */
import { ConfigReader } from '@backstage/config';
import fs from 'node:fs';
import path from 'node:path';
import { ClusterGateway } from '../../cluster';
import type { KubeObject } from '../../manifests';
import {
  localKubeconfigPath,
  purgeNamespaces,
} from '../../__testUtils__/localCluster';

/** Server, tokens and CA of the local control plane; fails (never skips) without one. */
export function localClusterState() {
  const file = path.join(path.dirname(localKubeconfigPath()), 'state.json');
  if (!fs.existsSync(file)) {
    throw new Error(
      `No local control plane: ${file} does not exist. Run \`yarn cluster:start\` first.`,
    );
  }
  const state = JSON.parse(fs.readFileSync(file, 'utf8'));
  const caFile: string =
    state.caFile ?? path.join(path.dirname(file), 'certs', 'apiserver.crt');
  return {
    server: state.server as string,
    adminToken: (state.tokens?.admin ?? state.adminToken) as string,
    restrictedToken: (state.tokens?.restricted ??
      state.restrictedToken) as string,
    caFile,
    /** the control plane's processes (for the benchmarks' CPU accounting) */
    pids: {
      apiserver: Number(state.pids?.apiserver),
      etcd: Number(state.pids?.etcd),
    },
  };
}

/**
 * `kubernetes:` config with the local cluster twice: `local` (cluster-admin) and
 * `local-restricted` (may write only in `team-a`).
 */
export function localKubernetesConfig() {
  const state = localClusterState();
  return {
    clusterLocatorMethods: [
      {
        type: 'config',
        clusters: [
          {
            name: 'local',
            url: state.server,
            authProvider: 'serviceAccount',
            serviceAccountToken: state.adminToken,
            caData: fs.readFileSync(state.caFile).toString('base64'),
          },
          {
            name: 'local-restricted',
            url: state.server,
            authProvider: 'serviceAccount',
            serviceAccountToken: state.restrictedToken,
            caData: fs.readFileSync(state.caFile).toString('base64'),
          },
        ],
      },
    ],
  };
}

/** A gateway of its own for the tests (reading back, cleaning up). */
export function testGateway(): ClusterGateway {
  const quiet = () => undefined;
  return ClusterGateway.fromConfig(
    new ConfigReader({ kubernetes: localKubernetesConfig() }),
    { logger: { debug: quiet, info: quiet, warn: quiet, error: quiet } },
  );
}

/** Every kind the cluster routes create (CronJob as the 1.20 server serves it). */
export const CREATED_KINDS: Array<{ apiVersion: string; kind: string }> = [
  { apiVersion: 'kubeflow.org/v1', kind: 'Notebook' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'batch/v1beta1', kind: 'CronJob' },
  { apiVersion: 'kubeflow.org/v1', kind: 'TFJob' },
  { apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob' },
  { apiVersion: 'kubeflow.org/v1', kind: 'XGBoostJob' },
  { apiVersion: 'scheduling.volcano.sh/v1beta1', kind: 'PodGroup' },
  { apiVersion: 'data.fluid.io/v1alpha1', kind: 'Dataset' },
  { apiVersion: 'data.fluid.io/v1alpha1', kind: 'AlluxioRuntime' },
  { apiVersion: 'data.fluid.io/v1alpha1', kind: 'JuiceFSRuntime' },
  { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService' },
  { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow' },
  { apiVersion: 'argoproj.io/v1alpha1', kind: 'CronWorkflow' },
  // the run credentials of the runs (manifests/runIdentity.ts)
  { apiVersion: 'v1', kind: 'Secret' },
];

/** Every object of {@link CREATED_KINDS} in a namespace (optionally by label selector). */
export async function listCreated(
  gateway: ClusterGateway,
  namespace: string,
  labelSelector?: string,
): Promise<KubeObject[]> {
  const lists = await Promise.all(
    CREATED_KINDS.map(k =>
      gateway.list('local', { ...k, namespace, labelSelector }),
    ),
  );
  return lists.flat();
}

/**
 * Deletes everything in a namespace, then the namespace, and waits until it is gone (see
 * {@link purgeNamespaces}: no namespace controller runs on the local control plane).
 */
export async function deleteNamespace(
  _gateway: ClusterGateway,
  namespace: string,
): Promise<void> {
  await purgeNamespaces(namespace);
}

/**
 * The local control plane as the portal sees it with impersonation: `kubernetes:` config whose
 * `local` cluster uses the portal's own identity (may impersonate; `local-restricted` may not),
 * and the apiserver's audit log.
 */
export function portalControlPlane() {
  const state = JSON.parse(
    fs.readFileSync(
      path.join(path.dirname(localKubeconfigPath()), 'state.json'),
      'utf8',
    ),
  );
  if (!state.tokens?.portal || !state.auditLog) {
    throw new Error(
      'the local control plane has no portal identity or audit log yet: run `node scripts/cluster/cluster.mjs start` (it restarts the apiserver in place)',
    );
  }
  const caData = fs.readFileSync(state.caFile).toString('base64');
  const cluster = (name: string, token: string) => ({
    name,
    url: state.server,
    authProvider: 'serviceAccount',
    serviceAccountToken: token,
    caData,
  });
  return {
    auditLog: state.auditLog as string,
    kubernetes: {
      clusterLocatorMethods: [
        {
          type: 'config',
          clusters: [
            // the portal's own identity, as `cluster.mjs env` gives it to the portal
            cluster('local', state.tokens.portal),
            // an account that may not impersonate
            cluster('local-restricted', state.tokens.restricted),
          ],
        },
      ],
    },
  };
}
