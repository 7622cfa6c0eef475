/*
 * What the informers' writes change for lineage answers (database/changes.ts): each observation
 * raises only the scopes of the answers that can show it — a busy cluster's services, datasets and
 * volumes no longer drop every held answer on every replica. SQLite and PostgreSQL.
 */
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import {
  createTestDatabases,
  postgresSupport,
} from '../__testUtils__/databases';
import { RegistryStore } from '../database/RegistryStore';
import { kubeaiMetadata } from '../manifests/labels';
import { lineageScopes } from '../service/lineageCache';
import { kindSpec } from './kinds';
import { observe } from './observe';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const USER = 'user:default/alice';
const MODEL_A = 'model:default/ranker';
const MODEL_B = 'model:default/scorer';
const SERVICE = 'inferenceservice:default/ranker-svc';
const LATE = 'inferenceservice:default/late-svc';
const GONE = 'inferenceservice:default/gone-svc';
const DATASET = 'dataset:default/clicks';
const FOUND = 'inferenceservice:default/local.serving.found';
const WATCHED = ['*', MODEL_A, MODEL_B, SERVICE, LATE, GONE, DATASET, FOUND];

let rv = 1000;
function object(
  kind: string,
  apiVersion: string,
  name: string,
  labels: Parameters<typeof kubeaiMetadata>[2] | undefined,
  spec: Record<string, unknown> = {},
) {
  return observe('local', kindSpec(kind)!, {
    apiVersion,
    kind,
    metadata: {
      ...(labels
        ? kubeaiMetadata(name, 'serving', labels)
        : { name, namespace: 'serving' }),
      uid: `uid-${kind}-${name}`,
      resourceVersion: String(++rv),
    },
    spec,
    status: {},
  });
}

const isvc = (
  name: string,
  storageUri: string,
  labels?: Parameters<typeof kubeaiMetadata>[2],
) =>
  object('InferenceService', 'serving.kserve.io/v1beta1', name, labels, {
    predictor: { model: { modelFormat: { name: 'onnx' }, storageUri } },
  });

it('runs against SQLite and PostgreSQL', () => {
  expect(postgresSupport(databases)).toBe('ok');
});

describe.each(databases.eachSupportedId())(
  'the scopes observations raise on %p',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RegistryStore;

    /** Records the deployment of `serviceRef` (in namespace `serving`), version 1 of `modelRef`. */
    const deploy = (serviceRef: string, modelRef: string) =>
      store.createDeployment(
        {
          serviceRef,
          cluster: 'local',
          namespace: 'serving',
          name: serviceRef.slice(serviceRef.indexOf('/') + 1),
          modelRef,
          traffic: [{ version: 1, percent: 100 }],
        },
        USER,
      );

    /** The watched scopes `action` raised above the horizon read before it. */
    async function raisedBy(action: () => Promise<unknown>) {
      const horizon = await store.changes.horizon();
      await action();
      const versions = await store.changes.versions(WATCHED);
      return WATCHED.filter(scope => versions.get(scope)! > horizon);
    }

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await RegistryStore.migrate(knex);
      store = new RegistryStore(knex);
      for (const [model, uri] of [
        [MODEL_A, 's3://models/ranker/1'],
        [MODEL_B, 's3://models/scorer/1'],
      ]) {
        await store.createModelVersion(
          model,
          { artifact: { uri, format: 'onnx' } },
          USER,
        );
      }
      await deploy(SERVICE, MODEL_A);
    });

    it('a discovered service raises the models whose versions it serves, not the others', async () => {
      const answerOf = async (ref: string) =>
        lineageScopes(
          (await store.lineageWithObserved(
            { type: 'model', ref },
            { direction: 'both', depth: 3 },
          ))!,
        );
      const before = { a: await answerOf(MODEL_A), b: await answerOf(MODEL_B) };
      const horizon = await store.changes.horizon();
      expect(
        await raisedBy(() =>
          store.applyObservations([
            isvc('found', 's3://models/ranker/1/'), // trailing slash: the same artifact
          ]),
        ),
      ).toEqual([MODEL_A, FOUND]);
      // model A's answer changed (it shows the service now) and says so; B's held answer stays valid
      const after = await answerOf(MODEL_A);
      expect(after).toContain(FOUND);
      const raisedOf = async (scopes: string[]) =>
        [...(await store.changes.versions(scopes)).entries()]
          .filter(([, version]) => version > horizon)
          .map(([scope]) => scope);
      expect(await raisedOf(before.a)).toEqual([MODEL_A]);
      expect(await raisedOf(before.b)).toEqual([]);

      // serving another artifact: the answers it leaves and the ones it joins
      expect(
        await raisedBy(() =>
          store.applyObservations([isvc('found', 's3://models/scorer/1')]),
        ),
      ).toEqual([MODEL_A, MODEL_B, FOUND]);
    });

    it("a deployment's service raises that service only", async () => {
      expect(
        await raisedBy(() =>
          store.applyObservations([
            isvc('ranker-svc', 's3://models/ranker/1', {
              entityRef: SERVICE,
              modelRef: MODEL_A,
            }),
          ]),
        ),
      ).toEqual([SERVICE]);
      expect(
        (await store.getDeployment(SERVICE))?.observed?.servedVersion,
      ).toBe(1);
    });

    it('a Fluid dataset raises its dataset; a volume without an entity raises nothing', async () => {
      expect(
        await raisedBy(() =>
          store.applyObservations([
            object('Dataset', 'data.fluid.io/v1alpha1', 'clicks', {
              entityRef: DATASET,
            }),
          ]),
        ),
      ).toEqual([DATASET]);
      expect(
        await raisedBy(() =>
          store.applyObservations([
            object('PersistentVolumeClaim', 'v1', 'scratch', {}),
          ]),
        ),
      ).toEqual([]);
    });

    it("a Job's new phase changes only its run's node: the log names it, held answers are patched", async () => {
      const job = (status: Record<string, unknown>) =>
        observe('local', kindSpec('Job')!, {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: {
            ...kubeaiMetadata('train-ranker', 'serving', { modelRef: MODEL_A }),
            uid: 'uid-job-train-ranker',
            resourceVersion: String(++rv),
          },
          spec: {},
          status,
        });
      await store.applyObservations([job({ active: 1 })]);
      const run = await knex('kubeai_runs')
        .where({ name: 'train-ranker' })
        .first('id', 'phase');
      const node = `run:${run.id}`;
      const held = await store.changes.versions([node]);
      // a new run was raised in any way (it is a new node): not patchable from before it
      expect(
        await store.changes.nodeChanges(new Map([[node, 0]]), held),
      ).toBeUndefined();

      await store.applyObservations([job({ succeeded: 1 })]);
      const current = await store.changes.versions([node]);
      expect(current.get(node)).toBeGreaterThan(held.get(node)!);
      expect(await store.changes.nodeChanges(held, current)).toEqual(
        new Set([node]),
      );
      const phase = (await knex('kubeai_runs').where({ id: run.id }).first())
        .phase;
      expect(phase).not.toBe(run.phase);
      expect((await store.lineageNodeDetails([node]))?.get(node)).toMatchObject(
        { id: node, type: 'run', status: phase },
      );
    });

    it('reconciling a late or missing deployment raises that service only', async () => {
      expect(
        await raisedBy(() =>
          store.applyObservations([
            isvc('late-svc', 's3://models/scorer/1', {
              entityRef: LATE,
              modelRef: MODEL_B,
            }),
          ]),
        ),
      ).toEqual([LATE]);
      await deploy(LATE, MODEL_B);
      expect(
        await raisedBy(() => store.reconcileDeployments(['local'])),
      ).toEqual([LATE]);
      expect((await store.getDeployment(LATE))?.observed).toMatchObject({
        servedVersion: 1,
      });
      // a deployment whose service the cluster's list does not have: observed NotFound
      await deploy(GONE, MODEL_B);
      expect(
        await raisedBy(() =>
          store.markMissingDeployments(
            'local',
            new Set(['serving/ranker-svc', 'serving/late-svc']),
          ),
        ),
      ).toEqual([GONE]);
      expect((await store.getDeployment(GONE))?.observed?.phase).toBe(
        'NotFound',
      );
    });
  },
);
