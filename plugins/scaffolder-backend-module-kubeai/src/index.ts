/**
 * Scaffolder actions `kubeai:*`: notebooks, training tasks, datasets, model versions, inference
 * services (deploy, promote, rollback) and pipelines, through the KubeAI API as the user running
 * the template.
 *
 * @packageDocumentation
 */
export { scaffolderModuleKubeai as default } from './module';
export {
  createKubeaiTemplateActions,
  type KubeaiTemplateActionsOptions,
} from './actions';
