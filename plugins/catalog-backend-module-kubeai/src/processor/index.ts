export { KubeaiEntitiesProcessor } from './KubeaiEntitiesProcessor';
