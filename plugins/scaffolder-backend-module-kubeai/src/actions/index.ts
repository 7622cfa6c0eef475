export {
  createKubeaiTemplateActions,
  type KubeaiTemplateActionsOptions,
} from './kubeaiActions';
