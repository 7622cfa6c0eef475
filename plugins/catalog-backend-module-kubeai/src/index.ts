/**
 * Catalog module for KubeAI entity kinds.
 *
 * @packageDocumentation
 */
export { catalogModuleKubeai as default } from './module';
export { KubeaiEntitiesProcessor } from './processor';
