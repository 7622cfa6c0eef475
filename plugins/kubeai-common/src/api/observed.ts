/**
 * The observed-state part of the KubeAI API (`/api/kubeai`): cluster informer health, observed
 * objects, run logs — what really runs in the clusters. Types come from the OpenAPI spec
 * (`ClusterSyncStatusList`, `ObservedObjectList`, …); the permission guards the logs route.
 * `KubeaiApi` includes these routes; `KubeaiClient` implements them.
 */
import { createPermission } from '@backstage/plugin-permission-common';
import type { KubeaiOperations } from './client.generated';
import type { KubeaiRequestOptions } from './KubeaiApi';
import type { GetRunLogsQuery } from './types.generated';

/**
 * Read the logs of a run's pods. Basic permission. Route: `GET /runs/{id}/logs`.
 * Registered by the kubeai backend next to `kubeaiPermissions`.
 */
export const kubeaiRunLogsReadPermission = createPermission({
  name: 'kubeai.run.logs.read',
  attributes: { action: 'read' },
});

/** The permissions of the observed-state routes. */
export const kubeaiObservedPermissions = [kubeaiRunLogsReadPermission];

/**
 * The observed-state routes of the KubeAI API: the generated `getClustersStatus`,
 * `listObservedObjects`, `getRunLogs` (`GET /runs/{id}/logs`, without `follow`: the last `tail`
 * lines of the run's pods), and `followRunLogs`.
 */
export interface KubeaiObservedApi
  extends Pick<
    KubeaiOperations,
    'getClustersStatus' | 'listObservedObjects' | 'getRunLogs'
  > {
  /**
   * `GET /runs/{id}/logs?follow=true`: the response body streams new lines; cancel it (or abort
   * `options.signal`) to stop.
   */
  followRunLogs(
    id: string,
    query?: Omit<GetRunLogsQuery, 'follow'>,
    options?: KubeaiRequestOptions & { signal?: AbortSignal },
  ): Promise<ReadableStream<Uint8Array>>;
}
