import { createApiRef } from '@backstage/frontend-plugin-api';
import type { KubeaiApi } from '@kubeai/plugin-kubeai-common';
import type { InferenceServiceActions } from './InferenceServiceActions';

/** The KubeAI registry and lineage client (`KubeaiClient` of `@kubeai/plugin-kubeai-common`). */
export const kubeaiApiRef = createApiRef<KubeaiApi>().with({
  id: 'plugin.kubeai.api',
  pluginId: 'kubeai',
});

/** Deploy / promote / roll back an inference service (see {@link InferenceServiceActions}). */
export const inferenceServiceActionsApiRef =
  createApiRef<InferenceServiceActions>().with({
    id: 'plugin.kubeai.inference-service-actions',
    pluginId: 'kubeai',
  });
