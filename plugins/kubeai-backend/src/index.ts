/**
 * KubeAI backend plugin: model registry, lineage, cluster gateway and the OpenAPI router.
 *
 * @packageDocumentation
 */
export { kubeaiPlugin as default } from './plugin';
