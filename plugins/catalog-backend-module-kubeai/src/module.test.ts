import {
  createBackendModule,
  coreServices,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import {
  eventsServiceRef,
  type EventsService,
} from '@backstage/plugin-events-node';
import { KUBEAI_PORTAL_ENTITY_TOPIC } from '@kubeai/plugin-kubeai-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { catalogModuleKubeai } from './module';

jest.setTimeout(120_000);

const examplesFile = path.resolve(__dirname, '../../../examples/all.yaml');

/** A Model that is valid, and the same Model with a reference to a Component. */
const validModel = `
apiVersion: kubeai.io/v1alpha1
kind: Model
metadata:
  name: churn-model
spec:
  type: classification
  framework: lightgbm
  owner: group:default/ml-platform
  lifecycle: experimental
  trainedOn: [dataset:default/search-click-logs]
`;
const invalidEntities = `
apiVersion: kubeai.io/v1alpha1
kind: InferenceService
metadata:
  name: gateway-serving
spec:
  owner: group:default/search-reco
  lifecycle: production
  model: component:default/search-gateway
---
apiVersion: kubeai.io/v1alpha1
kind: Dataset
metadata:
  name: clicks-without-table
spec:
  owner: group:default/data-engineering
  lifecycle: production
  source:
    type: table
    engine: odps
    project: search_dw
`;

describe('catalogModuleKubeai', () => {
  const processingErrors = new Array<{ entityRef: string; message: string }>();
  let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
  let scratchDir: string;
  let scratchFile: string;

  /** Collects the catalog's processing errors, as the logs module would. */
  const errorCollector = createBackendModule({
    pluginId: 'catalog',
    moduleId: 'test-error-collector',
    register(reg) {
      reg.registerInit({
        deps: {
          catalog: catalogProcessingExtensionPoint,
          logger: coreServices.logger,
        },
        async init({ catalog }) {
          catalog.setOnProcessingErrorHandler(
            ({ unprocessedEntity, errors }) => {
              for (const error of errors) {
                processingErrors.push({
                  entityRef: stringifyEntityRef(unprocessedEntity),
                  message: error.message,
                });
              }
            },
          );
        },
      });
    },
  });

  /** The events service of the backend, to announce portal entities as the KubeAI backend does. */
  let events: EventsService;
  const eventsGrabber = createBackendModule({
    pluginId: 'catalog',
    moduleId: 'test-events',
    register(reg) {
      reg.registerInit({
        deps: { events: eventsServiceRef },
        async init(deps) {
          events = deps.events;
        },
      });
    },
  });

  const getEntities = async (filter: string): Promise<Entity[]> => {
    const res = await request(server).get(
      `/api/catalog/entities?filter=${encodeURIComponent(filter)}`,
    );
    if (res.status !== 200) {
      throw new Error(`GET entities failed: ${res.status} ${res.text}`);
    }
    return res.body;
  };

  const getEntity = async (ref: string): Promise<Entity | undefined> => {
    const [kind, rest] = ref.split(':');
    const [namespace, name] = rest.split('/');
    const res = await request(server).get(
      `/api/catalog/entities/by-name/${kind}/${namespace}/${name}`,
    );
    return res.status === 200 ? res.body : undefined;
  };

  /** Polls until `check` passes (the catalog processes asynchronously). */
  async function eventually(check: () => Promise<void>, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await check();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise(resolve => setTimeout(resolve, 250));
      }
    }
  }

  const relationsOf = (entity: Entity | undefined) =>
    (entity?.relations ?? []).map(r => `${r.type} ${r.targetRef}`);

  beforeAll(async () => {
    scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-catalog-'));
    scratchFile = path.join(scratchDir, 'scratch.yaml');
    fs.writeFileSync(scratchFile, validModel);
    fs.writeFileSync(path.join(scratchDir, 'invalid.yaml'), invalidEntities);

    ({ server } = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleKubeai,
        errorCollector,
        eventsGrabber,
        mockServices.rootConfig.factory({
          data: {
            catalog: {
              rules: [
                {
                  allow: [
                    'Component',
                    'System',
                    'API',
                    'Resource',
                    'Location',
                    'Domain',
                    'Group',
                    'User',
                    'Template',
                    'Model',
                    'Dataset',
                    'InferenceService',
                  ],
                },
              ],
              locations: [
                { type: 'file', target: examplesFile },
                { type: 'file', target: scratchFile },
                { type: 'file', target: path.join(scratchDir, 'invalid.yaml') },
              ],
            },
          },
        }),
      ],
    }));

    // Wait for the whole example catalog (the dashboard is among the last entities).
    await eventually(async () => {
      const counts = [
        (await getEntities('kind=model')).length,
        (await getEntities('kind=inferenceservice')).length,
        (await getEntities('kind=dataset')).length,
        relationsOf(
          await getEntity('component:default/indicator-forecast-dashboard'),
        ).length,
      ];
      if (counts.join() !== [17 + 1, 3, 14, 12 + 2].join()) {
        throw new Error(`catalog not ready yet: ${counts.join()}`);
      }
    });
  });

  afterAll(() => {
    fs.rmSync(scratchDir, { recursive: true, force: true });
  });

  it('publishes an announced portal entity at once, and removes it when announced removed', async () => {
    const entity = {
      apiVersion: 'kubeai.io/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'portal-made', namespace: 'default' },
      spec: {
        owner: 'group:default/ml-platform',
        lifecycle: 'experimental',
        source: { type: 'pvc', claimName: 'portal-made', namespace: 'team-a' },
      },
    };
    await events.publish({
      topic: KUBEAI_PORTAL_ENTITY_TOPIC,
      eventPayload: { entity },
    });
    await eventually(async () => {
      expect(await getEntity('dataset:default/portal-made')).toBeDefined();
    });
    await events.publish({
      topic: KUBEAI_PORTAL_ENTITY_TOPIC,
      eventPayload: { removedEntityRef: 'dataset:default/portal-made' },
    });
    await eventually(async () => {
      expect(await getEntity('dataset:default/portal-made')).toBeUndefined();
    });
  });

  it('ingests every example without a processing error', async () => {
    const invalidOnPurpose = [
      'inferenceservice:default/gateway-serving',
      'dataset:default/clicks-without-table',
    ];
    expect(
      processingErrors.filter(e => !invalidOnPurpose.includes(e.entityRef)),
    ).toEqual([]);
    const locations = await getEntities('kind=location');
    expect(locations.map(l => l.metadata.name)).toContain('kubeai-examples');
  });

  it('GET /api/catalog/entities?filter=kind=model returns the models', async () => {
    const models = await getEntities('kind=model');
    const names = models.map(m => m.metadata.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'shoe-brand-classifier',
        'search-ranking-dnn',
        'payment-fraud-xgb',
        'forecast-gmv',
        'churn-model',
      ]),
    );
    expect(models.every(m => m.apiVersion === 'kubeai.io/v1alpha1')).toBe(true);
    expect(models.filter(m => m.spec?.framework === 'prophet')).toHaveLength(
      12,
    );
  });

  it('relates Model and Dataset: trainedOn / trainingDataOf', async () => {
    const model = await getEntity('model:default/search-ranking-dnn');
    expect(relationsOf(model)).toEqual(
      expect.arrayContaining([
        'trainedOn dataset:default/search-click-logs',
        'trainedOn dataset:default/search-item-features',
        'trainedOn dataset:default/user-behavior-sequences',
        'servedBy inferenceservice:default/search-ranking-serving',
        'ownedBy group:default/search-reco',
        'partOf system:default/search-recommendation',
        'dependsOn resource:default/feature-store',
      ]),
    );
    const dataset = await getEntity('dataset:default/search-click-logs');
    expect(relationsOf(dataset)).toEqual(
      expect.arrayContaining([
        'trainingDataOf model:default/search-ranking-dnn',
        'trainingDataOf model:default/search-recall-two-tower',
        'ownedBy group:default/data-engineering',
      ]),
    );
  });

  it('relates InferenceService and Model: servesModel / servedBy, and the API both ways', async () => {
    const service = await getEntity(
      'inferenceservice:default/shoe-brand-classifier-serving',
    );
    expect(relationsOf(service)).toEqual(
      expect.arrayContaining([
        'servesModel model:default/shoe-brand-classifier',
        'providesApi api:default/shoe-brand-recognition-api',
        'ownedBy group:default/cv-team',
        'partOf system:default/shoe-brand-recognition',
      ]),
    );
    expect(
      relationsOf(await getEntity('model:default/shoe-brand-classifier')),
    ).toContain(
      'servedBy inferenceservice:default/shoe-brand-classifier-serving',
    );
    expect(
      relationsOf(await getEntity('api:default/shoe-brand-recognition-api')),
    ).toContain(
      'apiProvidedBy inferenceservice:default/shoe-brand-classifier-serving',
    );
  });

  it('gives groups, systems and resources the reverse relations', async () => {
    expect(relationsOf(await getEntity('group:default/risk-ml'))).toEqual(
      expect.arrayContaining([
        'ownerOf model:default/payment-fraud-xgb',
        'ownerOf dataset:default/chargeback-labels',
        'ownerOf inferenceservice:default/payment-fraud-serving',
      ]),
    );
    expect(
      relationsOf(await getEntity('system:default/business-forecasting')),
    ).toEqual(
      expect.arrayContaining([
        'hasPart model:default/forecast-gmv',
        'hasPart dataset:default/holiday-promotion-calendar',
      ]),
    );
    expect(
      relationsOf(await getEntity('resource:default/model-registry')),
    ).toContain('dependencyOf model:default/shoe-brand-classifier');
  });

  it('keeps the built-in kinds working', async () => {
    const component = await getEntity('component:default/search-gateway');
    expect(relationsOf(component)).toEqual(
      expect.arrayContaining([
        'consumesApi api:default/search-ranking-api',
        'ownedBy group:default/search-reco',
      ]),
    );
    expect(await getEntities('kind=user')).toHaveLength(9);
    expect(await getEntities('kind=group')).toHaveLength(7);
  });

  it('lists the new kinds in the kind facet (the kind filter of the catalog page)', async () => {
    const res = await request(server).get(
      '/api/catalog/entity-facets?facet=kind',
    );
    expect(res.status).toBe(200);
    const kinds = res.body.facets.kind.map((f: { value: string }) => f.value);
    expect(kinds).toEqual(
      expect.arrayContaining(['Model', 'Dataset', 'InferenceService']),
    );
  });

  it('does not ingest invalid entities, and reports the entity ref, field path and reason', async () => {
    await eventually(async () => {
      expect(processingErrors.map(e => e.entityRef)).toEqual(
        expect.arrayContaining([
          'inferenceservice:default/gateway-serving',
          'dataset:default/clicks-without-table',
        ]),
      );
    });
    expect(
      processingErrors.find(
        e => e.entityRef === 'inferenceservice:default/gateway-serving',
      )?.message,
    ).toContain(
      'Invalid InferenceService entity inferenceservice:default/gateway-serving: /spec/model must reference a Model, not a component',
    );
    expect(
      processingErrors.find(
        e => e.entityRef === 'dataset:default/clicks-without-table',
      )?.message,
    ).toContain('/spec/source/table is required (source type "table")');

    expect(
      await getEntity('inferenceservice:default/gateway-serving'),
    ).toBeUndefined();
    expect(
      await getEntity('dataset:default/clicks-without-table'),
    ).toBeUndefined();
    expect(
      relationsOf(await getEntity('component:default/search-gateway')),
    ).not.toContain('servedBy inferenceservice:default/gateway-serving');
  });

  it('keeps the last valid version of an entity that becomes invalid, and shows the error on it', async () => {
    const ref = 'model:default/churn-model';
    expect(relationsOf(await getEntity(ref))).toContain(
      'trainedOn dataset:default/search-click-logs',
    );

    fs.writeFileSync(
      scratchFile,
      validModel.replace(
        'trainedOn: [dataset:default/search-click-logs]',
        'trainedOn: [component:default/search-gateway]',
      ),
    );

    await eventually(async () => {
      await request(server)
        .post('/api/catalog/refresh')
        .send({ entityRef: ref })
        .expect(200);
      // The stitched entity carries the error as a status item, which its page shows.
      const entity = (await getEntity(ref)) as Entity & {
        status?: { items?: Array<{ level: string; message: string }> };
      };
      expect(entity?.status?.items?.[0]?.level).toBe('error');
      expect(entity?.status?.items?.[0]?.message).toContain(
        `Invalid Model entity ${ref}: /spec/trainedOn/0 must reference a Dataset, not a component`,
      );
    });

    // The stored entity is still the valid one: spec and relations unchanged.
    const entity = await getEntity(ref);
    expect(entity?.spec?.trainedOn).toEqual([
      'dataset:default/search-click-logs',
    ]);
    expect(relationsOf(entity)).toContain(
      'trainedOn dataset:default/search-click-logs',
    );
    expect(relationsOf(entity)).not.toContain(
      'trainedOn component:default/search-gateway',
    );
  });
});
