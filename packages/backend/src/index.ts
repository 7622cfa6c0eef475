/*
 * KubeAI portal backend (new backend system).
 * The cluster is configured once under `kubernetes:` in app-config and shared by the core
 * kubernetes plugin and KubeAI.
 */
import { createBackend } from '@backstage/backend-defaults';
import { demoSignInModule } from './demoSignIn';
import { permissionPolicyModule } from './permissionPolicy';
import { stopOnFirstSignal } from './stopSignals';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-proxy-backend'));

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
// Development: sign in as a person of the example catalog (auth.providers.demo in app-config.yaml).
backend.add(demoSignInModule);

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));
// Model, Dataset and InferenceService kinds: validation and relations.
backend.add(import('@kubeai/plugin-catalog-backend-module-kubeai'));

backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(
  import('@backstage/plugin-scaffolder-backend-module-notifications'),
);
// kubeai:* actions: notebooks, training tasks, datasets, models, inference services, pipelines.
backend.add(import('@kubeai/plugin-scaffolder-backend-module-kubeai'));

backend.add(import('@backstage/plugin-permission-backend'));
backend.add(permissionPolicyModule);

backend.add(import('@backstage/plugin-search-backend'));
backend.add(import('@backstage/plugin-search-backend-module-pg'));
backend.add(import('@backstage/plugin-search-backend-module-catalog'));
backend.add(import('@backstage/plugin-search-backend-module-techdocs'));

backend.add(import('@backstage/plugin-techdocs-backend'));
backend.add(import('@backstage/plugin-kubernetes-backend'));
// KubeAI: model registry, lineage and the typed OpenAPI under /api/kubeai.
backend.add(import('@kubeai/plugin-kubeai-backend'));
backend.add(import('@backstage/plugin-user-settings-backend'));
backend.add(import('@backstage/plugin-notifications-backend'));
backend.add(import('@backstage/plugin-signals-backend'));
backend.add(import('@backstage/plugin-mcp-actions-backend'));

backend.start();
// the dev runner passes stop signals on: only the first one stops the backend (./stopSignals.ts)
stopOnFirstSignal();
