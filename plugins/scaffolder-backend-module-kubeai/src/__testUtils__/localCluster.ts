/*
 * The local control plane (`yarn cluster:start`) for the tests of the kubeai:* actions: its
 * `kubernetes:` config and a small reader / lister of what the actions created.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '../../../..');
const stateFile = path.join(repoRoot, '.kubeai/cluster/state.json');

/** Server, tokens and CA of the local control plane; fails (never skips) without one. */
export function localClusterState() {
  if (!fs.existsSync(stateFile)) {
    throw new Error(
      `No local control plane: ${stateFile} does not exist. Run \`yarn cluster:start\` first.`,
    );
  }
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  return {
    server: state.server as string,
    adminToken: (state.tokens?.admin ?? state.adminToken) as string,
    restrictedToken: (state.tokens?.restricted ??
      state.restrictedToken) as string,
    ca: fs.readFileSync(
      state.caFile ??
        path.join(path.dirname(stateFile), 'certs', 'apiserver.crt'),
    ),
  };
}

/** `kubernetes:` config: `local` (cluster-admin) and `local-restricted` (writes only in team-a). */
export function localKubernetesConfig() {
  const state = localClusterState();
  const cluster = (name: string, token: string) => ({
    name,
    url: state.server,
    authProvider: 'serviceAccount',
    serviceAccountToken: token,
    caData: state.ca.toString('base64'),
  });
  return {
    clusterLocatorMethods: [
      {
        type: 'config',
        clusters: [
          cluster('local', state.adminToken),
          cluster('local-restricted', state.restrictedToken),
        ],
      },
    ],
  };
}

/** A raw call to the local apiserver as the admin: `{ status, body }`. */
export function kube(
  method: string,
  apiPath: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: any }> {
  const state = localClusterState();
  const url = new URL(apiPath, state.server);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: state.ca,
        headers: {
          Authorization: `Bearer ${state.adminToken}`,
          Accept: 'application/json',
          ...(body ? { 'Content-Type': contentType } : {}),
        },
      },
      res => {
        let text = '';
        res.on('data', chunk => (text += chunk));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

/** API paths of the kinds the actions create, by kind. */
export const KIND_PATHS: Record<string, string> = {
  Notebook: '/apis/kubeflow.org/v1/namespaces/{ns}/notebooks',
  PersistentVolumeClaim: '/api/v1/namespaces/{ns}/persistentvolumeclaims',
  Secret: '/api/v1/namespaces/{ns}/secrets',
  Job: '/apis/batch/v1/namespaces/{ns}/jobs',
  CronJob: '/apis/batch/v1beta1/namespaces/{ns}/cronjobs',
  PyTorchJob: '/apis/kubeflow.org/v1/namespaces/{ns}/pytorchjobs',
  InferenceService:
    '/apis/serving.kserve.io/v1beta1/namespaces/{ns}/inferenceservices',
  Workflow: '/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows',
  CronWorkflow: '/apis/argoproj.io/v1alpha1/namespaces/{ns}/cronworkflows',
  Dataset: '/apis/data.fluid.io/v1alpha1/namespaces/{ns}/datasets',
};

/** Reads one object back (undefined when it does not exist). */
export async function readObject(
  kind: string,
  namespace: string,
  name: string,
) {
  const res = await kube(
    'GET',
    `${KIND_PATHS[kind].replace('{ns}', namespace)}/${name}`,
  );
  if (res.status === 404) return undefined;
  if (res.status !== 200) {
    throw new Error(
      `GET ${kind} ${namespace}/${name}: ${res.status} ${JSON.stringify(
        res.body,
      )}`,
    );
  }
  return res.body;
}

/** Names of the objects of a kind in a namespace. */
export async function listNames(
  kind: string,
  namespace: string,
): Promise<string[]> {
  const res = await kube('GET', KIND_PATHS[kind].replace('{ns}', namespace));
  return (res.body?.items ?? []).map((o: any) => o.metadata.name);
}

export async function createNamespace(name: string) {
  const res = await kube('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
  if (res.status !== 201 && res.status !== 409) {
    throw new Error(`create namespace ${name}: ${res.status}`);
  }
}

/**
 * Deletes every object in a namespace (all kinds, finalizers cleared), then the namespace, and
 * waits until it is gone: `node scripts/test-cleanup.mjs purge`. No namespace controller runs on
 * the local control plane, so a plain DELETE would leave it Terminating with its objects inside.
 */
export function deleteNamespace(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(repoRoot, 'scripts/test-cleanup.mjs'), 'purge', name],
      {
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          KUBEAI_CLUSTER_DIR: path.dirname(stateFile),
        },
        timeout: 120_000,
      },
      (error, _stdout, stderr) =>
        error
          ? reject(new Error(`purging ${name}: ${stderr || error.message}`))
          : resolve(),
    );
  });
}
