/*
 * Shows the KubeAI kinds (Model, Dataset, InferenceService) in the app:
 *
 * - the catalog graph knows the KubeAI relation pairs (trainedOn / trainingDataOf,
 *   servesModel / servedBy), so its card and page draw and label those edges;
 * - their entity pages get a details card and a relations-and-links card, next to the
 *   catalog's about card (all kinds but User and Group) and the catalog graph card (all kinds).
 *
 * The kind filter of the catalog page lists every kind present in the catalog (the `kind` facet),
 * so Model, Dataset and InferenceService appear there once the catalog module has ingested them.
 */
import {
  ApiBlueprint,
  createFrontendModule,
} from '@backstage/frontend-plugin-api';
import {
  ALL_RELATION_PAIRS,
  ALL_RELATIONS,
  catalogGraphApiRef,
  DefaultCatalogGraphApi,
} from '@backstage/plugin-catalog-graph';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';
import {
  KUBEAI_RELATION_PAIRS,
  KUBEAI_RELATIONS,
} from '@kubeai/plugin-kubeai-common';

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

const kubeaiKinds = { kind: { $in: ['Model', 'Dataset', 'InferenceService'] } };

/** Model / Dataset / InferenceService fields, beside the about card. */
export const kubeaiDetailsEntityCard = EntityCardBlueprint.make({
  name: 'kubeai-details',
  params: {
    type: 'info',
    filter: kubeaiKinds,
    loader: () => import('./cards').then(m => <m.KubeaiDetailsCard />),
  },
});

/** Lineage, serving and dependency relations, and the entity's links. */
export const kubeaiRelationsEntityCard = EntityCardBlueprint.make({
  name: 'kubeai-relations',
  params: {
    filter: kubeaiKinds,
    loader: () => import('./cards').then(m => <m.KubeaiRelationsCard />),
  },
});

/** Overrides the catalog graph's API (extension `api:catalog-graph`). */
export const kubeaiCatalogGraphModule = createFrontendModule({
  pluginId: 'catalog-graph',
  extensions: [kubeaiCatalogGraphApi],
});

/** Adds the KubeAI entity cards to the catalog's entity pages. */
export const kubeaiEntityCardsModule = createFrontendModule({
  pluginId: 'catalog',
  extensions: [kubeaiDetailsEntityCard, kubeaiRelationsEntityCard],
});

/** Everything the app needs to show the KubeAI kinds; spread into `createApp({ features })`. */
export const kubeaiEntitiesModules = [
  kubeaiCatalogGraphModule,
  kubeaiEntityCardsModule,
];
