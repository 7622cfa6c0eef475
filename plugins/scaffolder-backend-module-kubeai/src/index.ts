/**
 * Scaffolder actions `kubeai:*`.
 *
 * @packageDocumentation
 */
export { scaffolderModuleKubeai as default } from './module';
