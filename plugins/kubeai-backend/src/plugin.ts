import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import {
  KUBEAI_PLUGIN_ID,
  kubeaiPermissions,
} from '@kubeai/plugin-kubeai-common';
import Router from 'express-promise-router';
import { RegistryStore } from './database/RegistryStore';
import { createRouter } from './service/router';

/** The KubeAI backend plugin, mounted at `/api/kubeai`. */
export const kubeaiPlugin = createBackendPlugin({
  pluginId: KUBEAI_PLUGIN_ID,
  register(env) {
    env.registerInit({
      deps: {
        http: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        database: coreServices.database,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        catalog: catalogServiceRef,
      },
      async init({
        http,
        httpAuth,
        auth,
        database,
        permissions,
        permissionsRegistry,
        logger,
        config,
        catalog,
      }) {
        const health = Router();
        health.get('/health', (_req, res) => {
          res.json({ status: 'ok' });
        });
        http.use(health);
        http.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });

        permissionsRegistry.addPermissions(kubeaiPermissions);

        // Applies the migrations in migrations/ (tables kubeai_*).
        const store = await RegistryStore.create({ database });
        http.use(
          await createRouter({
            store,
            httpAuth,
            auth,
            permissions,
            catalog,
            logger,
            maxBodySize: config.getOptionalString(
              'kubeai.registry.maxBodySize',
            ),
            validateResponses: config.getOptionalBoolean(
              'kubeai.registry.validateResponses',
            ),
          }),
        );
      },
    });
  },
});
