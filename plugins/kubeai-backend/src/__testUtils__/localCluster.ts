import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Where the local control plane's kubeconfig is: `KUBEAI_KUBECONFIG`, else
 * `<repo>/.kubeai/cluster/kubeconfig` as written by `yarn cluster:start`.
 */
export function localKubeconfigPath(): string {
  return (
    process.env.KUBEAI_KUBECONFIG ??
    resolvePackagePath(
      '@kubeai/plugin-kubeai-backend',
      '../../.kubeai/cluster/kubeconfig',
    )
  );
}

/**
 * Loads a `@kubernetes/client-node` KubeConfig for the local control plane in the given context
 * (`kubeai-admin` or `kubeai-restricted`). Tests that need a cluster fail here, never skip:
 * start one with `yarn cluster:start`.
 */
export async function loadLocalKubeConfig(
  context: 'kubeai-admin' | 'kubeai-restricted' = 'kubeai-admin',
) {
  const file = localKubeconfigPath();
  if (!fs.existsSync(file)) {
    throw new Error(
      `No local control plane: ${file} does not exist. Run \`yarn cluster:start\` first.`,
    );
  }
  const k8s = await import('@kubernetes/client-node');
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(file);
  kubeConfig.setCurrentContext(context);
  return { k8s, kubeConfig };
}

/**
 * Deletes every object in the namespaces (all kinds, custom resources included, finalizers
 * cleared), then the namespaces: `node scripts/test-cleanup.mjs purge`. The local control plane
 * runs no namespace controller, so a plain DELETE leaves a namespace Terminating with everything
 * still inside — which the portal's informers then show as runs.
 */
export function purgeNamespaces(...names: string[]): Promise<void> {
  const script = resolvePackagePath(
    '@kubeai/plugin-kubeai-backend',
    '../../scripts/test-cleanup.mjs',
  );
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, 'purge', ...names],
      {
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          KUBEAI_CLUSTER_DIR: path.dirname(localKubeconfigPath()),
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

/** The local control plane's state (server and tokens), or a failure saying how to start it. */
export function localClusterState() {
  const file = path.join(path.dirname(localKubeconfigPath()), 'state.json');
  if (!fs.existsSync(file)) {
    throw new Error(
      `No local control plane: ${file} does not exist. Run \`yarn cluster:start\` first.`,
    );
  }
  const state = JSON.parse(fs.readFileSync(file, 'utf8'));
  const adminToken: string = state.tokens?.admin ?? state.adminToken;
  const restrictedToken: string =
    state.tokens?.restricted ?? state.restrictedToken;
  if (!state.server || !adminToken || !restrictedToken) {
    throw new Error(`${file} lacks server / admin and restricted tokens`);
  }
  const caFile: string | undefined =
    state.caFile ?? path.join(path.dirname(file), 'certs', 'apiserver.crt');
  return {
    server: state.server as string,
    adminToken,
    restrictedToken,
    caFile,
  };
}
