/*
 * The embedded default keeps its data: the backend configured with app-config.yaml's
 * `backend.database` (SQLite files in a directory) is stopped and started again on the same
 * directory, and what was registered before is still there.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import YAML from 'yaml';
import { kubeaiPlugin } from './plugin';

jest.setTimeout(120_000);

const REPO_ROOT = path.resolve(__dirname, '../../..');
/** Where `yarn start` (backstage-cli repo start) runs the backend. */
const BACKEND_CWD = path.join(REPO_ROOT, 'packages/backend');

/** Backstage's `${VAR}` / `${VAR:-fallback}` / `$${…}` substitution (config-loader's transform). */
function substitute(value: unknown, env: Record<string, string | undefined>) {
  if (typeof value !== 'string') return value;
  const parts = value.split(/(\$?\$\{[^{}]*\})/);
  for (let i = 1; i < parts.length; i += 2) {
    const part = parts[i];
    if (part.startsWith('$$')) {
      parts[i] = part.slice(1);
    } else {
      const separator = part.indexOf(':-');
      const name = part.slice(2, separator > -1 ? separator : -1).trim();
      const fallback =
        separator > -1 ? part.slice(separator + 2, -1).trim() : undefined;
      parts[i] = (env[name] || fallback) as string;
    }
  }
  return parts.some(p => p === undefined) ? undefined : parts.join('');
}

/** `backend.database` of app-config.yaml, with its `${…}` substituted from `env`. */
function appConfigDatabase(env: Record<string, string | undefined>) {
  const file = fs.readFileSync(path.join(REPO_ROOT, 'app-config.yaml'), 'utf8');
  const database = YAML.parse(file).backend.database;
  const resolve = (v: unknown): unknown =>
    v && typeof v === 'object'
      ? Object.fromEntries(
          Object.entries(v).map(([k, inner]) => [k, resolve(inner)]),
        )
      : substitute(v, env);
  return resolve(database) as {
    client: string;
    connection: string | { [key: string]: string };
  };
}

const entity = (kind: string, name: string): Entity => ({
  apiVersion: 'kubeai.io/v1alpha1',
  kind,
  metadata: { name, namespace: 'default' },
  spec: {},
});

const MODEL = '/api/kubeai/models/default/clf';
const artifact = { uri: 's3://models/clf/model.onnx', format: 'onnx' };

describe('the embedded database of app-config.yaml', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-persistence-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is SQLite files in <repo>/.kubeai/data unless KUBEAI_DATA_DIR says otherwise', () => {
    const database = appConfigDatabase({});
    expect(database.client).toBe('better-sqlite3');
    expect(database.connection).toEqual({ directory: expect.any(String) });
    const { directory } = database.connection as { directory: string };
    expect(path.resolve(BACKEND_CWD, directory)).toBe(
      path.join(REPO_ROOT, '.kubeai/data'),
    );
    expect(
      appConfigDatabase({ KUBEAI_DATA_DIR: dir }).connection,
    ).toMatchObject({ directory: dir });
  });

  it('keeps model versions, runs and deployments across a restart', async () => {
    const database = appConfigDatabase({ KUBEAI_DATA_DIR: dir });
    const start = () =>
      startTestBackend({
        features: [
          kubeaiPlugin,
          // the default database service of startTestBackend is Backstage's own factory
          mockServices.rootConfig.factory({ data: { backend: { database } } }),
          catalogServiceMock.factory({
            entities: [
              entity('Model', 'clf'),
              entity('InferenceService', 'svc'),
            ],
          }),
        ],
      });

    const first = await start();
    let runId: string;
    try {
      const run = await request(first.server)
        .post('/api/kubeai/runs')
        .send({
          kind: 'training',
          cluster: 'local',
          namespace: 'team-a',
          name: 'train-clf',
          modelRef: 'model:default/clf',
        })
        .expect(201);
      runId = run.body.id;
      await request(first.server)
        .post(`${MODEL}/versions`)
        .send({ artifact, runId, metrics: { auc: 0.91 } })
        .expect(201);
      await request(first.server)
        .post('/api/kubeai/deployments')
        .send({
          serviceRef: 'inferenceservice:default/svc',
          cluster: 'local',
          namespace: 'team-a',
          name: 'svc',
          modelRef: 'model:default/clf',
          traffic: [{ version: 1, percent: 100 }],
        })
        .expect(201);
    } finally {
      await first.stop();
    }
    // one file per plugin in the configured directory
    expect(fs.readdirSync(dir)).toContain('kubeai.sqlite');

    const second = await start();
    try {
      const version = await request(second.server)
        .get(`${MODEL}/versions/1`)
        .expect(200);
      expect(version.body).toMatchObject({
        modelRef: 'model:default/clf',
        version: 1,
        artifact,
        metrics: { auc: 0.91 },
      });
      const run = await request(second.server)
        .get(`/api/kubeai/runs/${runId}`)
        .expect(200);
      expect(run.body).toMatchObject({
        name: 'train-clf',
        namespace: 'team-a',
      });
      const deployment = await request(second.server)
        .get('/api/kubeai/deployments/default/svc')
        .expect(200);
      expect(deployment.body).toMatchObject({
        serviceRef: 'inferenceservice:default/svc',
        modelRef: 'model:default/clf',
      });
      // the next registration continues the numbering
      const next = await request(second.server)
        .post(`${MODEL}/versions`)
        .send({ artifact })
        .expect(201);
      expect(next.body.version).toBe(2);
    } finally {
      await second.stop();
    }
  });
});
