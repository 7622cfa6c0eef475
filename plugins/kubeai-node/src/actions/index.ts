export {
  exampleStepYaml,
  kubeaiActions,
  kubeaiReadActions,
  LINEAGE_CAPS,
  summariseLineage,
  objectRefString,
  pruneEmpty,
} from './actions';
export type { KubeaiActionDefinition, KubeaiActionRunOptions } from './actions';
