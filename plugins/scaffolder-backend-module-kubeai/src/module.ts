import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createKubeaiTemplateActions } from './actions';

/**
 * Registers the `kubeai:*` scaffolder actions: `kubeai:notebook:create`, `kubeai:job:create`,
 * `kubeai:dataset:create`, `kubeai:model:register`, `kubeai:inference-service:deploy`,
 * `kubeai:inference-service:promote`, `kubeai:inference-service:rollback` and
 * `kubeai:pipeline:create`. They call the KubeAI backend (`/api/kubeai`) as the user running the
 * template.
 */
export const scaffolderModuleKubeai = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'kubeai',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
      },
      async init({ scaffolder, auth, discovery }) {
        scaffolder.addActions(
          ...createKubeaiTemplateActions({ auth, discovery }),
        );
      },
    });
  },
});
