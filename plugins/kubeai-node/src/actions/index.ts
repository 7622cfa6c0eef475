export {
  exampleStepYaml,
  kubeaiActions,
  objectRefString,
  pruneEmpty,
} from './actions';
export type { KubeaiActionDefinition, KubeaiActionRunOptions } from './actions';
