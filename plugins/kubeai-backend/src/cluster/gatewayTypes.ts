/**
 * The types of the cluster gateway's API (./ClusterGateway.ts): clusters, object references,
 * resolved resources, list queries and options.
 */
import type { UserInfoService } from '@backstage/backend-plugin-api';
import type { GatewayLogger } from './config';
import type { ImpersonationConfig } from './impersonation';

/** A cluster as the gateway shows it (never the token): the API's `ClusterInfo`. */
export type { ClusterInfo } from '@kubeai/plugin-kubeai-common';

/** Identifies one object. `namespace` is required for namespaced kinds. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** How a cluster serves a kind (see {@link ClusterGateway.resolveResource}). */
export interface ResolvedResource {
  /** API group, `''` for the core group. */
  group: string;
  version: string;
  /** `group/version`, or `version` for the core group. */
  apiVersion: string;
  kind: string;
  /** Plural resource name, e.g. `inferenceservices`. */
  resource: string;
  namespaced: boolean;
}

/** What {@link ClusterGateway.list} lists. */
export interface ListQuery {
  apiVersion: string;
  kind: string;
  /** Omit for cluster-scoped kinds or to list across all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** Retry policy for transient failures. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff delay in ms (default 200), doubled each retry. */
  baseDelayMs?: number;
  /** Longest delay in ms (default 5000), also the cap of `Retry-After`. */
  maxDelayMs?: number;
}

/** Options of {@link ClusterGateway.fromConfig}. */
export interface ClusterGatewayOptions {
  logger: GatewayLogger;
  retry?: RetryOptions;
  /** How long discovery results are cached (default 10 minutes). */
  discoveryTtlMs?: number;
  /**
   * Whether and how writes are sent as the caller; {@link ClusterGateway.fromConfig} reads
   * `kubeai.tenancy.impersonation` when this is not given. Default: off.
   */
  impersonation?: ImpersonationConfig;
  /** The groups of signed-in users, for impersonation (`coreServices.userInfo`). */
  userInfo?: Pick<UserInfoService, 'getUserInfo'>;
}
