import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { KUBEAI_PLUGIN_ID } from '@kubeai/plugin-kubeai-common';
import Router from 'express-promise-router';

/** The KubeAI backend plugin, mounted at `/api/kubeai`. */
export const kubeaiPlugin = createBackendPlugin({
  pluginId: KUBEAI_PLUGIN_ID,
  register(env) {
    env.registerInit({
      deps: { http: coreServices.httpRouter },
      async init({ http }) {
        const router = Router();
        router.get('/health', (_req, res) => {
          res.json({ status: 'ok' });
        });
        http.use(router);
        http.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });
      },
    });
  },
});
