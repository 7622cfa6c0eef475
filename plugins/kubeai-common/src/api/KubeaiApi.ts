import type { KubeaiOperations } from './client.generated';
import type { KubeaiObservedApi } from './observed';

/**
 * Per-call options. `token` is sent as `Authorization: Bearer <token>` — for backend callers
 * (e.g. a scaffolder action calling on behalf of the user); frontend callers leave it out and let
 * the FetchApi add the user's token.
 */
export interface KubeaiRequestOptions {
  token?: string;
}

/**
 * The KubeAI registry and lineage API (`/api/kubeai`). One method per operation of the OpenAPI
 * spec (`plugins/kubeai-backend/src/schema/openapi.yaml`), named by its operationId and generated
 * from it (`KubeaiOperations` in `client.generated.ts`), plus `followRunLogs` (the streamed form
 * of `getRunLogs`). Errors are thrown as `ResponseError` of `@backstage/errors` (with
 * `statusCode` and the server's message).
 *
 * Models, datasets and inference services are named by their catalog entity: `{ namespace, name }`
 * for path parameters, or an entity ref `kind:namespace/name` in bodies and queries; objects in
 * clusters by `{ cluster, namespace, name }`.
 */
export interface KubeaiApi extends KubeaiOperations, KubeaiObservedApi {}

/** A Kubernetes object in a cluster known to the portal. */
export interface ClusterObjectName {
  cluster: string;
  namespace: string;
  name: string;
}

/** The namespace and name of a catalog entity (a `CompoundEntityRef` without the kind fits). */
export interface EntityName {
  namespace: string;
  name: string;
}
