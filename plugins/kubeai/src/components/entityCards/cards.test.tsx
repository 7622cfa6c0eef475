import { renderInTestApp } from '@backstage/frontend-test-utils';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { screen } from '@testing-library/react';
import { KubeaiDetailsCard, KubeaiRelationsCard } from './cards';
import { relationRowsOf } from './relations';
import kubeaiPlugin, {
  kubeaiCatalogGraphModule,
  kubeaiDetailsEntityCard,
  kubeaiRelationsEntityCard,
} from '../../alpha';

const model = {
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'Model',
  metadata: {
    name: 'search-ranking-dnn',
    annotations: {
      'kubeai.io/training-schedule': '0 3 * * *',
      'kubeai.io/training-job-kind': 'TFJob',
      'kubeai.io/training-topology': 'ps-worker',
    },
    links: [{ url: 'https://mlflow.example.com/m/1', title: 'Model registry' }],
  },
  spec: {
    type: 'ranking',
    framework: 'tensorflow',
    owner: 'search-reco',
    lifecycle: 'production',
    trainedOn: ['search-click-logs'],
  },
  relations: [
    { type: 'trainedOn', targetRef: 'dataset:default/search-click-logs' },
    {
      type: 'servedBy',
      targetRef: 'inferenceservice:default/search-ranking-serving',
    },
    { type: 'dependsOn', targetRef: 'resource:default/feature-store' },
    { type: 'ownedBy', targetRef: 'group:default/search-reco' },
  ],
};

const dataset = {
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'Dataset',
  metadata: { name: 'search-click-logs' },
  spec: {
    owner: 'data-engineering',
    lifecycle: 'production',
    source: {
      type: 'table',
      engine: 'odps',
      project: 'search_dw',
      table: 'dwd_search_click_log_di',
    },
    cache: { engine: 'alluxio', capacity: '500Gi', medium: 'SSD' },
  },
  relations: [
    { type: 'trainingDataOf', targetRef: 'model:default/search-ranking-dnn' },
  ],
};

const routes = {
  mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
};

describe('KubeAI entity cards', () => {
  it('show the fields and lineage of a Model', async () => {
    renderInTestApp(
      <EntityProvider entity={model}>
        <KubeaiDetailsCard />
      </EntityProvider>,
      routes,
    );
    expect(await screen.findByText('ranking')).toBeInTheDocument();
    expect(screen.getByText('tensorflow')).toBeInTheDocument();
    expect(screen.getByText('search-click-logs')).toBeInTheDocument();
    expect(screen.getByText('search-ranking-serving')).toBeInTheDocument();
    expect(
      screen.getByText('TFJob · ps-worker · schedule 0 3 * * *'),
    ).toBeInTheDocument();
  });

  it('show where a Dataset lives and its cache', async () => {
    renderInTestApp(
      <EntityProvider entity={dataset}>
        <KubeaiDetailsCard />
      </EntityProvider>,
      routes,
    );
    expect(
      await screen.findByText('odps://search_dw.dwd_search_click_log_di'),
    ).toBeInTheDocument();
    expect(screen.getByText('alluxio · 500Gi · SSD')).toBeInTheDocument();
    expect(screen.getByText('search-ranking-dnn')).toBeInTheDocument();
  });

  it('list the relations and links of a Model', async () => {
    renderInTestApp(
      <EntityProvider entity={model}>
        <KubeaiRelationsCard />
      </EntityProvider>,
      routes,
    );
    expect(await screen.findByText('trained on')).toBeInTheDocument();
    expect(screen.getByText('served by')).toBeInTheDocument();
    expect(screen.getByText('depends on')).toBeInTheDocument();
    expect(screen.getByText('feature-store')).toBeInTheDocument();
    expect(screen.getByText('Model registry')).toBeInTheDocument();
  });
});

describe('relationRowsOf', () => {
  const types = (kind: string) => relationRowsOf(kind).map(r => r.type);

  it('lists the lineage and serving relations of each kind', () => {
    expect(types('Model')).toEqual(
      expect.arrayContaining(['trainedOn', 'dependsOn', 'servedBy']),
    );
    expect(types('Dataset')).toEqual(
      expect.arrayContaining(['trainingDataOf']),
    );
    expect(types('InferenceService')).toEqual(
      expect.arrayContaining(['servesModel', 'providesApi']),
    );
    expect(types('Model')).not.toContain('ownedBy');
  });
});

describe('KubeAI plugin features', () => {
  it('override the catalog graph API and add the cards to the entity pages', () => {
    expect(kubeaiCatalogGraphModule.pluginId).toBe('catalog-graph');
    expect(kubeaiPlugin.pluginId).toBe('kubeai');
    expect(String(kubeaiDetailsEntityCard)).toContain('entity-card');
    expect(String(kubeaiDetailsEntityCard)).toContain('details');
    expect(String(kubeaiRelationsEntityCard)).toContain('relations');
  });
});
