/**
 * Reads the clusters the gateway may use from the core Kubernetes plugin's configuration:
 *
 * ```yaml
 * kubernetes:
 *   clusterLocatorMethods:
 *     - type: config
 *       clusters:
 *         - name: local
 *           url: https://127.0.0.1:6443
 *           authProvider: serviceAccount        # the only provider the gateway can use
 *           serviceAccountToken: ${KUBEAI_TOKEN}
 *           caData: <base64 PEM>                 # or caFile: /path/ca.crt, or skipTLSVerify: true
 * ```
 */
import type { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import fs from 'node:fs';

/** One cluster the gateway talks to. Holds the token: never log or return it. */
export interface ClusterConnection {
  name: string;
  url: string;
  /** Service-account token (from config, else the in-cluster token file as first read). */
  token: string;
  /**
   * The file the token came from (in a pod: the projected service-account token, which the
   * kubelet rotates — Kubernetes ≥ 1.21 binds it to an hour), re-read as client-go does.
   */
  tokenFile?: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
}

/** Path of the token a pod's service account gets. */
export const IN_CLUSTER_TOKEN_FILE =
  '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Minimal logger (the Backstage LoggerService fits). */
export interface GatewayLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/**
 * The `type: config` clusters of `kubernetes.clusterLocatorMethods`. Clusters using another
 * `authProvider`, or without a token (and no in-cluster token file), are skipped with a warning;
 * duplicate names and invalid URLs are configuration errors.
 */
export function readClusterConnections(
  config: Config,
  logger?: GatewayLogger,
  options: { inClusterTokenFile?: string } = {},
): ClusterConnection[] {
  const connections: ClusterConnection[] = [];
  const methods =
    config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? [];
  for (const method of methods) {
    const type = method.getString('type');
    if (type !== 'config') {
      logger?.info(
        `kubeai cluster gateway: ignoring kubernetes cluster locator of type "${type}" (only "config" is supported)`,
      );
      continue;
    }
    for (const cluster of method.getOptionalConfigArray('clusters') ?? []) {
      const name = cluster.getString('name');
      const url = cluster.getString('url');
      if (!/^https?:\/\/[^\s/]+/.test(url)) {
        throw new InputError(
          `kubernetes cluster "${name}": url must be http(s)://host[:port], got "${url}"`,
        );
      }
      if (connections.some(c => c.name === name)) {
        throw new InputError(
          `kubernetes cluster "${name}" is configured twice`,
        );
      }
      const authMetadata =
        cluster.getOptional<Record<string, unknown>>('authMetadata') ?? {};
      const metadataString = (key: string) =>
        typeof authMetadata[key] === 'string'
          ? (authMetadata[key] as string)
          : undefined;
      const authProvider =
        cluster.getOptionalString('authProvider') ??
        metadataString('kubernetes.io/auth-provider') ??
        'serviceAccount';
      if (authProvider !== 'serviceAccount') {
        logger?.warn(
          `kubeai cluster gateway: skipping cluster "${name}": authProvider "${authProvider}" is not supported (use serviceAccount)`,
        );
        continue;
      }
      let token =
        cluster.getOptionalString('serviceAccountToken') ??
        metadataString('serviceAccountToken');
      const inClusterTokenFile =
        options.inClusterTokenFile ?? IN_CLUSTER_TOKEN_FILE;
      let tokenFile: string | undefined;
      if (!token && fs.existsSync(inClusterTokenFile)) {
        token = fs.readFileSync(inClusterTokenFile, 'utf8').trim();
        tokenFile = inClusterTokenFile;
      }
      if (!token) {
        logger?.warn(
          `kubeai cluster gateway: skipping cluster "${name}": no serviceAccountToken configured`,
        );
        continue;
      }
      connections.push({
        name,
        url: url.replace(/\/+$/, ''),
        token,
        ...(tokenFile ? { tokenFile } : {}),
        caData: cluster.getOptionalString('caData'),
        caFile: cluster.getOptionalString('caFile'),
        skipTLSVerify: cluster.getOptionalBoolean('skipTLSVerify') ?? false,
      });
    }
  }
  return connections;
}
