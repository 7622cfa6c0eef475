/**
 * The cluster gateway: the only module that talks to Kubernetes clusters.
 */
export {
  ClusterGateway,
  KUBEAI_FIELD_MANAGER,
  type ClusterGatewayOptions,
  type ClusterInfo,
  type ListQuery,
  type ObjectRef,
  type ResolvedResource,
  type RetryOptions,
} from './ClusterGateway';
export { IdleTimeoutError, StreamHttpError } from './stream';
export {
  readClusterConnections,
  type ClusterConnection,
  type GatewayLogger,
} from './config';
export {
  ClusterInputError,
  isTransient,
  toClusterError,
  type FieldCause,
} from './errors';
export {
  AUTHENTICATED_GROUP,
  CallerImpersonation,
  impersonationOf,
  readImpersonationConfig,
  type CallerIdentity,
  type Impersonation,
  type ImpersonationConfig,
} from './impersonation';
