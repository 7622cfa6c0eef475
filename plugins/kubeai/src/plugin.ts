import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  createRouteRef,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { createScaffolderFieldExtension } from '@backstage/plugin-scaffolder-react';
import { KubeaiClient } from '@kubeai/plugin-kubeai-common';
import {
  ClusterPicker,
  DatasetPicker,
  ModelVersionPicker,
  NamespacePicker,
} from './components/scaffolder/pickers';
import { ClusterInferenceServiceActions } from './api/InferenceServiceActions';
import { inferenceServiceActionsApiRef, kubeaiApiRef } from './api/refs';

/** Route of the KubeAI page in legacy apps (mount it at `/kubeai`). */
export const kubeaiLegacyRootRouteRef = createRouteRef({ id: 'kubeai' });

/**
 * The KubeAI plugin for legacy (`@backstage/app-defaults`) apps. New-system apps use the default
 * export of `@kubeai/plugin-kubeai/alpha`.
 */
export const kubeaiPlugin = createPlugin({
  id: 'kubeai',
  routes: { root: kubeaiLegacyRootRouteRef },
  apis: [
    createApiFactory({
      api: kubeaiApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new KubeaiClient({ discoveryApi, fetchApi }),
    }),
    createApiFactory({
      api: inferenceServiceActionsApiRef,
      deps: { kubeaiApi: kubeaiApiRef },
      factory: ({ kubeaiApi }) => new ClusterInferenceServiceActions(kubeaiApi),
    }),
  ],
});

/** The KubeAI page (tabs Models, Datasets, Inference services, Runs, Notebooks, Lineage). */
export const KubeaiPage = kubeaiPlugin.provide(
  createRoutableExtension({
    name: 'KubeaiPage',
    component: () =>
      import('./components/page/KubeaiPage').then(m => m.KubeaiPage),
    mountPoint: kubeaiLegacyRootRouteRef,
  }),
);

/** Versions tab of a Model entity page. */
export const EntityModelVersionsContent = kubeaiPlugin.provide(
  createComponentExtension({
    name: 'EntityModelVersionsContent',
    component: {
      lazy: () =>
        import('./components/model/ModelVersionsContent').then(
          m => m.ModelVersionsContent,
        ),
    },
  }),
);

/** Deployments tab of a Model entity page. */
export const EntityModelDeploymentsContent = kubeaiPlugin.provide(
  createComponentExtension({
    name: 'EntityModelDeploymentsContent',
    component: {
      lazy: () =>
        import('./components/model/ModelDeploymentsContent').then(
          m => m.ModelDeploymentsContent,
        ),
    },
  }),
);

/** Versions-and-impact tab of a Dataset entity page. */
export const EntityDatasetContent = kubeaiPlugin.provide(
  createComponentExtension({
    name: 'EntityDatasetContent',
    component: {
      lazy: () =>
        import('./components/dataset/DatasetContent').then(
          m => m.DatasetContent,
        ),
    },
  }),
);

/** Serving tab of an InferenceService entity page. */
export const EntityInferenceServiceContent = kubeaiPlugin.provide(
  createComponentExtension({
    name: 'EntityInferenceServiceContent',
    component: {
      lazy: () =>
        import('./components/service/InferenceServiceContent').then(
          m => m.InferenceServiceContent,
        ),
    },
  }),
);

/** Lineage tab of a Model, Dataset or InferenceService entity page. */
export const EntityKubeaiLineageContent = kubeaiPlugin.provide(
  createComponentExtension({
    name: 'EntityKubeaiLineageContent',
    component: {
      lazy: () =>
        import('./components/lineage/EntityLineageContent').then(
          m => m.EntityLineageContent,
        ),
    },
  }),
);

/** KubeAI details card (Model / Dataset / InferenceService fields). */
export const EntityKubeaiDetailsCard = kubeaiPlugin.provide(
  createComponentExtension({
    name: 'EntityKubeaiDetailsCard',
    component: {
      lazy: () =>
        import('./components/entityCards/cards').then(m => m.KubeaiDetailsCard),
    },
  }),
);

/** KubeAI relations-and-links card. */
export const EntityKubeaiRelationsCard = kubeaiPlugin.provide(
  createComponentExtension({
    name: 'EntityKubeaiRelationsCard',
    component: {
      lazy: () =>
        import('./components/entityCards/cards').then(
          m => m.KubeaiRelationsCard,
        ),
    },
  }),
);

/** Activity card: the audit trail of the entity (who changed what, denied requests marked). */
export const EntityKubeaiActivityCard = kubeaiPlugin.provide(
  createComponentExtension({
    name: 'EntityKubeaiActivityCard',
    component: {
      lazy: () =>
        import('./components/activity/ActivityCard').then(
          m => m.EntityActivityCard,
        ),
    },
  }),
);

/** Scaffolder field `ClusterPicker` (legacy apps: inside `<ScaffolderFieldExtensions>`). */
export const ClusterPickerFieldExtension = kubeaiPlugin.provide(
  createScaffolderFieldExtension({
    name: 'ClusterPicker',
    component: ClusterPicker,
  }),
);
/** Scaffolder field `NamespacePicker`. */
export const NamespacePickerFieldExtension = kubeaiPlugin.provide(
  createScaffolderFieldExtension({
    name: 'NamespacePicker',
    component: NamespacePicker,
  }),
);
/** Scaffolder field `ModelVersionPicker`. */
export const ModelVersionPickerFieldExtension = kubeaiPlugin.provide(
  createScaffolderFieldExtension({
    name: 'ModelVersionPicker',
    component: ModelVersionPicker,
  }),
);
/** Scaffolder field `DatasetPicker`. */
export const DatasetPickerFieldExtension = kubeaiPlugin.provide(
  createScaffolderFieldExtension({
    name: 'DatasetPicker',
    component: DatasetPicker,
  }),
);
