export {
  KubeaiPortalEntityProvider,
  type KubeaiPortalEntityProviderOptions,
} from './KubeaiPortalEntityProvider';
