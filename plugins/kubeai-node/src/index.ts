/**
 * Backend-only KubeAI code shared by the kubeai backend plugin and its modules (scaffolder,
 * catalog): the OpenAPI spec module, the `kubeai:*` action definitions built from it, and the
 * events contract of portal entities. Frontend code imports `@kubeai/plugin-kubeai-common` only.
 *
 * @packageDocumentation
 */
export * from './actions';
export {
  KUBEAI_PORTAL_ENTITY_TOPIC,
  KUBEAI_PORTAL_LOCATION_TYPE,
} from './portalEntities';
export { kubeaiOpenApiSpec } from './schema/openapi.generated';
export type { KubeaiOpenApiSpec } from './schema/openapi.generated';
