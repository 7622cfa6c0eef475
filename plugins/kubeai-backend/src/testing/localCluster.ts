import { resolvePackagePath } from '@backstage/backend-plugin-api';
import fs from 'node:fs';

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
