/*
 * The local control plane (`yarn cluster:start`) for the backend's integration tests: its
 * `kubernetes:` config (the admin token, so every refusal a test sees is the portal's), a small
 * admin client, a snapshot of every object in some namespaces, and the clean-up script.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '../../../..');

function clusterDir(): string {
  return process.env.KUBEAI_KUBECONFIG
    ? path.dirname(process.env.KUBEAI_KUBECONFIG)
    : path.join(repoRoot, '.kubeai/cluster');
}

/** Server, admin token and CA of the local control plane; fails (never skips) without one. */
export function localClusterState() {
  const file = path.join(clusterDir(), 'state.json');
  if (!fs.existsSync(file)) {
    throw new Error(
      `No local control plane: ${file} does not exist. Run \`yarn cluster:start\` first.`,
    );
  }
  const state = JSON.parse(fs.readFileSync(file, 'utf8'));
  return {
    server: state.server as string,
    adminToken: (state.tokens?.admin ?? state.adminToken) as string,
    ca: fs.readFileSync(
      state.caFile ?? path.join(clusterDir(), 'certs', 'apiserver.crt'),
    ),
  };
}

/** `kubernetes:` config with the local cluster as `local` (cluster-admin, no impersonation). */
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
            caData: state.ca.toString('base64'),
          },
        ],
      },
    ],
  };
}

/** A call to the apiserver as the admin. */
export type Kube = (
  method: string,
  apiPath: string,
  body?: unknown,
) => Promise<{ status: number; body: any }>;

/** An admin client of the local apiserver (one keep-alive agent). */
export function kubeClient(): Kube & { close(): void } {
  const state = localClusterState();
  const agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  const call: Kube = (method, apiPath, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        new URL(apiPath, state.server),
        {
          method,
          agent,
          ca: state.ca,
          timeout: 30_000,
          headers: {
            Authorization: `Bearer ${state.adminToken}`,
            Accept: 'application/json',
            ...(payload
              ? {
                  'Content-Type': 'application/json',
                  'Content-Length': Buffer.byteLength(payload),
                }
              : {}),
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
              // plain text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`timeout ${method} ${apiPath}`)),
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  return Object.assign(call, { close: () => agent.destroy() });
}

/** A namespaced resource type the apiserver lists: `<base>/namespaces/<ns>/<name>`. */
export interface ResourceType {
  base: string;
  name: string;
}

/**
 * Every namespaced, listable resource of every served group version (not only the preferred
 * one: the 1.20 apiserver serves CronJob in batch/v1beta1 only), so a snapshot sees any object a
 * route could have written.
 */
export async function namespacedResourceTypes(
  kube: Kube,
): Promise<ResourceType[]> {
  const types = new Map<string, ResourceType>();
  const add = (base: string, group: string, resources: any[] = []) => {
    for (const r of resources) {
      if (r.name.includes('/') || !r.namespaced) continue; // subresources, cluster-wide
      if (!r.verbs?.includes('list') || r.name === 'events') continue;
      const key = `${group}/${r.name}`;
      if (!types.has(key)) types.set(key, { base, name: r.name });
    }
  };
  const must = async (apiPath: string) => {
    const res = await kube('GET', apiPath);
    if (res.status !== 200) {
      throw new Error(`GET ${apiPath}: HTTP ${res.status}`);
    }
    return res.body;
  };
  add('/api/v1', '', (await must('/api/v1')).resources);
  for (const group of (await must('/apis')).groups) {
    // the preferred version first; another one only for what it alone serves
    const versions = [
      group.preferredVersion,
      ...group.versions.filter(
        (v: any) => v.groupVersion !== group.preferredVersion?.groupVersion,
      ),
    ].filter(Boolean);
    for (const version of versions) {
      const base = `/apis/${version.groupVersion}`;
      add(base, group.name, (await must(base)).resources);
    }
  }
  return [...types.values()];
}

/**
 * Every object in `namespaces` as `<api>/<resource> <namespace>/<name> <resourceVersion>`, sorted:
 * equal snapshots mean nothing was created, changed or deleted there.
 */
export async function snapshotObjects(
  kube: Kube,
  types: ResourceType[],
  namespaces: string[],
): Promise<string[]> {
  const lists = await Promise.all(
    namespaces.flatMap(namespace =>
      types.map(async type => {
        const at = `${type.base}/namespaces/${namespace}/${type.name}`;
        const res = await kube('GET', at);
        if (res.status !== 200) {
          throw new Error(`GET ${at}: HTTP ${res.status}`);
        }
        return (res.body.items ?? []).map(
          (o: any) =>
            `${type.base.replace(/^\/apis?\//, '')}/${type.name} ${namespace}/${
              o.metadata.name
            } ${o.metadata.resourceVersion}`,
        );
      }),
    ),
  );
  return lists.flat().sort();
}

/** Creates a namespace with labels (201), as a platform engineer would. */
export async function createNamespace(
  kube: Kube,
  name: string,
  labels: Record<string, string>,
): Promise<void> {
  const res = await kube('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels },
  });
  if (res.status !== 201) {
    throw new Error(
      `creating namespace ${name}: HTTP ${res.status} ${JSON.stringify(
        res.body,
      )}`,
    );
  }
}

/**
 * Deletes every object in the namespaces, then the namespaces (`node scripts/test-cleanup.mjs
 * purge`: no namespace controller runs on the local control plane).
 */
export function purgeNamespaces(...names: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(repoRoot, 'scripts/test-cleanup.mjs'), 'purge', ...names],
      {
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          KUBEAI_CLUSTER_DIR: clusterDir(),
        },
        timeout: 120_000,
      },
      (error, _stdout, stderr) =>
        error
          ? reject(
              new Error(
                `purging ${names.join(', ')}: ${stderr || error.message}`,
              ),
            )
          : resolve(),
    );
  });
}
