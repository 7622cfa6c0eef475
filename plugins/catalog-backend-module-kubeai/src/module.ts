import { createBackendModule } from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { KubeaiEntitiesProcessor } from './processor';

/**
 * Validates KubeAI entities (Model, Dataset, InferenceService) and emits their relations.
 * Uses the stable processor API, so the built-in kinds keep their own processor.
 */
export const catalogModuleKubeai = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'kubeai',
  register(reg) {
    reg.registerInit({
      deps: { catalog: catalogProcessingExtensionPoint },
      async init({ catalog }) {
        catalog.addProcessor(new KubeaiEntitiesProcessor());
      },
    });
  },
});
