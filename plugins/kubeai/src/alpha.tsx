import {
  ApiBlueprint,
  createFrontendModule,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import {
  ALL_RELATION_PAIRS,
  ALL_RELATIONS,
  catalogGraphApiRef,
  DefaultCatalogGraphApi,
} from '@backstage/plugin-catalog-graph';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { FormFieldBlueprint } from '@backstage/plugin-scaffolder-react/alpha';
import {
  KubeaiClient,
  KUBEAI_RELATION_PAIRS,
  KUBEAI_RELATIONS,
} from '@kubeai/plugin-kubeai-common';
import { RiBrainLine } from '@remixicon/react';
import { ClusterInferenceServiceActions } from './api/InferenceServiceActions';
import { inferenceServiceActionsApiRef, kubeaiApiRef } from './api/refs';
import { rootRouteRef } from './routes';

/** The typed KubeAI client, talking to `/api/kubeai` with the user's token. */
export const kubeaiApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: kubeaiApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new KubeaiClient({ discoveryApi, fetchApi }),
    }),
});

/** Update / promote / roll back an inference service (new deployment revisions). */
export const inferenceServiceActionsApi = ApiBlueprint.make({
  name: 'inference-service-actions',
  params: defineParams =>
    defineParams({
      api: inferenceServiceActionsApiRef,
      deps: { kubeaiApi: kubeaiApiRef },
      factory: ({ kubeaiApi: api }) => new ClusterInferenceServiceActions(api),
    }),
});

/** `/kubeai`: Models, Datasets, Inference services, Runs, Notebooks, Lineage. */
export const kubeaiPage = PageBlueprint.make({
  params: {
    path: '/kubeai',
    title: 'KubeAI',
    icon: <RiBrainLine />,
    routeRef: rootRouteRef,
    loader: () =>
      import('./components/page/KubeaiPage').then(m => <m.KubeaiPage />),
  },
});

const model = { kind: 'model' };
const dataset = { kind: 'dataset' };
const inferenceService = { kind: 'inferenceservice' };
const kubeaiKinds = {
  kind: { $in: ['Model', 'Dataset', 'InferenceService'] },
};

/** Model → Versions: metrics, aliases, state; compare two versions (metrics, ROC, PR). */
export const modelVersionsContent = EntityContentBlueprint.make({
  name: 'model-versions',
  params: {
    path: '/versions',
    title: 'Versions',
    filter: model,
    loader: () =>
      import('./components/model/ModelVersionsContent').then(m => (
        <m.ModelVersionsContent />
      )),
  },
});

/** Model → Deployments: which services run which version, with their traffic. */
export const modelDeploymentsContent = EntityContentBlueprint.make({
  name: 'model-deployments',
  params: {
    path: '/deployments',
    title: 'Deployments',
    filter: model,
    loader: () =>
      import('./components/model/ModelDeploymentsContent').then(m => (
        <m.ModelDeploymentsContent />
      )),
  },
});

/** Dataset → Versions: source, cache, versions and impact. */
export const datasetContent = EntityContentBlueprint.make({
  name: 'dataset-versions',
  params: {
    path: '/versions',
    title: 'Versions and impact',
    filter: dataset,
    loader: () =>
      import('./components/dataset/DatasetContent').then(m => (
        <m.DatasetContent />
      )),
  },
});

/** InferenceService → Serving: status, URL, versions, traffic, revisions, actions. */
export const inferenceServiceContent = EntityContentBlueprint.make({
  name: 'serving',
  params: {
    path: '/serving',
    title: 'Serving',
    filter: inferenceService,
    loader: () =>
      import('./components/service/InferenceServiceContent').then(m => (
        <m.InferenceServiceContent />
      )),
  },
});

/** Lineage tab of the three KubeAI kinds. */
export const lineageContent = EntityContentBlueprint.make({
  name: 'lineage',
  params: {
    path: '/lineage',
    title: 'Lineage',
    filter: kubeaiKinds,
    loader: () =>
      import('./components/lineage/EntityLineageContent').then(m => (
        <m.EntityLineageContent />
      )),
  },
});

/** Group (team) → Pools: its Kueue queue per flavor (nominal, used, borrowed, lent) and what waits. */
export const teamPoolsContent = EntityContentBlueprint.make({
  name: 'team-pools',
  params: {
    path: '/pools',
    title: 'Pools',
    filter: { kind: 'group' },
    loader: () =>
      import('./components/pools/TeamPoolsContent').then(m => (
        <m.TeamPoolsContent />
      )),
  },
});

/** Group (team) → Cost: cost per month, per model, and the month against the team's budget. */
export const teamCostContent = EntityContentBlueprint.make({
  name: 'team-cost',
  params: {
    path: '/cost',
    title: 'Cost',
    filter: { kind: 'group' },
    loader: () =>
      import('./components/cost/TeamCostContent').then(m => (
        <m.TeamCostContent />
      )),
  },
});

/** Model / Dataset / InferenceService fields, beside the about card. */
export const kubeaiDetailsEntityCard = EntityCardBlueprint.make({
  name: 'details',
  params: {
    type: 'info',
    filter: kubeaiKinds,
    loader: () =>
      import('./components/entityCards/cards').then(m => (
        <m.KubeaiDetailsCard />
      )),
  },
});

/** Lineage, serving and dependency relations, and the entity's links. */
export const kubeaiRelationsEntityCard = EntityCardBlueprint.make({
  name: 'relations',
  params: {
    filter: kubeaiKinds,
    loader: () =>
      import('./components/entityCards/cards').then(m => (
        <m.KubeaiRelationsCard />
      )),
  },
});

/** The audit trail of the entity: who changed what, when; denied and failed requests marked. */
export const kubeaiActivityEntityCard = EntityCardBlueprint.make({
  name: 'activity',
  params: {
    filter: kubeaiKinds,
    loader: () =>
      import('./components/activity/ActivityCard').then(m => (
        <m.EntityActivityCard />
      )),
  },
});

/** The catalog graph API, knowing the KubeAI relations as well as the built-in ones. */
export const kubeaiCatalogGraphApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: catalogGraphApiRef,
      deps: {},
      factory: () =>
        new DefaultCatalogGraphApi({
          knownRelations: [...ALL_RELATIONS, ...KUBEAI_RELATIONS],
          knownRelationPairs: [...ALL_RELATION_PAIRS, ...KUBEAI_RELATION_PAIRS],
          defaultRelationTypes: { exclude: [] },
        }),
    }),
});

/**
 * Overrides the catalog graph's API (extension `api:catalog-graph`) so that its card and page
 * draw and label the KubeAI relations. Add it to `createApp({ features })`: package discovery
 * loads only the plugin (the default export).
 */
export const kubeaiCatalogGraphModule = createFrontendModule({
  pluginId: 'catalog-graph',
  extensions: [kubeaiCatalogGraphApi],
});

const fields = () => import('./components/scaffolder/fields');

/**
 * The scaffolder field extensions `ClusterPicker`, `NamespacePicker`, `ModelVersionPicker` and
 * `DatasetPicker` (a module of the scaffolder plugin; add it to `createApp({ features })`).
 */
export const kubeaiScaffolderFieldsModule = createFrontendModule({
  pluginId: 'scaffolder',
  extensions: [
    FormFieldBlueprint.make({
      name: 'kubeai-cluster-picker',
      params: { field: () => fields().then(m => m.clusterPickerField) },
    }),
    FormFieldBlueprint.make({
      name: 'kubeai-namespace-picker',
      params: { field: () => fields().then(m => m.namespacePickerField) },
    }),
    FormFieldBlueprint.make({
      name: 'kubeai-model-version-picker',
      params: { field: () => fields().then(m => m.modelVersionPickerField) },
    }),
    FormFieldBlueprint.make({
      name: 'kubeai-dataset-picker',
      params: { field: () => fields().then(m => m.datasetPickerField) },
    }),
  ],
});

/** The KubeAI plugin for the new frontend system. */
const kubeaiPlugin = createFrontendPlugin({
  pluginId: 'kubeai',
  title: 'KubeAI',
  icon: <RiBrainLine />,
  routes: { root: rootRouteRef },
  extensions: [
    kubeaiApi,
    inferenceServiceActionsApi,
    kubeaiPage,
    modelVersionsContent,
    modelDeploymentsContent,
    datasetContent,
    inferenceServiceContent,
    lineageContent,
    teamPoolsContent,
    teamCostContent,
    kubeaiDetailsEntityCard,
    kubeaiRelationsEntityCard,
    kubeaiActivityEntityCard,
  ],
});

export default kubeaiPlugin;

export { kubeaiApiRef, inferenceServiceActionsApiRef } from './api/refs';
export { rootRouteRef } from './routes';
