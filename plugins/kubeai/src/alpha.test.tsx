import { renderTestApp } from '@backstage/frontend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import catalogGraphPlugin from '@backstage/plugin-catalog-graph/alpha';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { screen } from '@testing-library/react';
import kubeaiPlugin, {
  kubeaiCatalogGraphModule,
  kubeaiScaffolderFieldsModule,
} from './alpha';
import { kubeaiApiRef } from './api/refs';
import { mockKubeaiApi, modelVersion } from './__testUtils__';

const model = {
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'Model',
  metadata: {
    name: 'search-ranking-dnn',
    namespace: 'default',
    description: 'DIN-style deep ranking model for product search.',
  },
  spec: {
    type: 'ranking',
    framework: 'tensorflow',
    owner: 'group:default/search-reco',
    lifecycle: 'production',
    trainedOn: ['dataset:default/search-click-logs'],
  },
  relations: [
    { type: 'ownedBy', targetRef: 'group:default/search-reco' },
    { type: 'trainedOn', targetRef: 'dataset:default/search-click-logs' },
  ],
};
const dataset = {
  apiVersion: 'kubeai.io/v1alpha1',
  kind: 'Dataset',
  metadata: { name: 'search-click-logs', namespace: 'default' },
  spec: {
    owner: 'group:default/data-engineering',
    lifecycle: 'production',
    source: { type: 'table', engine: 'odps', project: 'p', table: 't' },
  },
  relations: [
    { type: 'trainingDataOf', targetRef: 'model:default/search-ranking-dnn' },
  ],
};

const group = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name: 'search-reco', namespace: 'default' },
  spec: { type: 'team', children: [] },
  relations: [
    { type: 'ownerOf', targetRef: 'model:default/search-ranking-dnn' },
  ],
};

jest.setTimeout(30_000);
const slow = { timeout: 10_000 };

describe('entity page of a Model', () => {
  beforeAll(() => {
    // jsdom has no SVG layout; the catalog graph measures its nodes.
    (window.SVGElement.prototype as any).getBBox = () => ({
      x: 0,
      y: 0,
      width: 100,
      height: 20,
    });
  });

  it('shows the about card, the KubeAI cards and the catalog graph card', async () => {
    renderTestApp({
      features: [
        catalogPlugin,
        catalogGraphPlugin,
        kubeaiPlugin,
        kubeaiCatalogGraphModule,
      ],
      apis: [
        [catalogApiRef, catalogApiMock({ entities: [model, dataset, group] })],
      ],
      initialRouteEntries: ['/catalog/default/model/search-ranking-dnn'],
    });

    expect(await screen.findByText('About', {}, slow)).toBeInTheDocument();
    expect(
      screen.getByText('DIN-style deep ranking model for product search.'),
    ).toBeInTheDocument();
    expect(
      await screen.findByText('Relations and links', {}, slow),
    ).toBeInTheDocument();
    expect(await screen.findByText('trained on', {}, slow)).toBeInTheDocument();
    // The catalog graph card, drawing the trainedOn edge with the KubeAI relation pair.
    expect(await screen.findByText('Relations', {}, slow)).toBeInTheDocument();
    expect(
      await screen.findByText('search-click-logs', { selector: 'text' }, slow),
    ).toBeInTheDocument();
    expect(
      screen.queryByText(/Error in catalog-graph/),
    ).not.toBeInTheDocument();
  });

  it('adds the Versions, Deployments and Lineage tabs to a Model page', async () => {
    const kubeai = mockKubeaiApi({
      listModelVersions: jest.fn().mockResolvedValue({
        items: [
          modelVersion(2, { modelRef: 'model:default/search-ranking-dnn' }),
        ],
        totalItems: 1,
      }),
    });
    renderTestApp({
      features: [catalogPlugin, kubeaiPlugin],
      apis: [
        [catalogApiRef, catalogApiMock({ entities: [model, dataset, group] })],
        [kubeaiApiRef, kubeai],
      ],
      initialRouteEntries: [
        '/catalog/default/model/search-ranking-dnn/versions',
      ],
    });
    expect((await screen.findAllByText('v2', {}, slow)).length).toBeGreaterThan(
      0,
    );
    // The entity page's tabs are links.
    const base = '/catalog/default/model/search-ranking-dnn';
    expect(screen.getByRole('link', { name: 'Versions' })).toHaveAttribute(
      'href',
      `${base}/versions`,
    );
    expect(screen.getByRole('link', { name: 'Deployments' })).toHaveAttribute(
      'href',
      `${base}/deployments`,
    );
    expect(
      screen
        .getAllByRole('link', { name: 'Lineage' })
        .map(l => l.getAttribute('href')),
    ).toContain(`${base}/lineage`);
    expect(kubeai.listModelVersions).toHaveBeenCalledWith(
      { namespace: 'default', name: 'search-ranking-dnn' },
      { limit: 1000 },
    );
  });

  it('mounts the KubeAI page at /kubeai', async () => {
    const kubeai = mockKubeaiApi({
      listModelVersions: jest
        .fn()
        .mockResolvedValue({ items: [], totalItems: 0 }),
      getModelVersionByAlias: jest.fn().mockResolvedValue(undefined),
      listDeployments: jest
        .fn()
        .mockResolvedValue({ items: [], totalItems: 0 }),
    });
    renderTestApp({
      features: [catalogPlugin, kubeaiPlugin],
      apis: [
        [catalogApiRef, catalogApiMock({ entities: [model] })],
        [kubeaiApiRef, kubeai],
      ],
      initialRouteEntries: ['/kubeai/models'],
    });
    expect(
      await screen.findByRole('tab', { name: 'Models' }, slow),
    ).toBeInTheDocument();
    expect(await screen.findByText('Models (1)', {}, slow)).toBeInTheDocument();
  });

  it('has a scaffolder module with the four pickers', () => {
    expect(kubeaiScaffolderFieldsModule.pluginId).toBe('scaffolder');
    expect(kubeaiPlugin.pluginId).toBe('kubeai');
  });
});
