import { createBackendModule } from '@backstage/backend-plugin-api';

/** Registers the `kubeai:*` scaffolder actions. */
export const scaffolderModuleKubeai = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'kubeai',
  register(reg) {
    reg.registerInit({
      deps: {},
      async init() {},
    });
  },
});
