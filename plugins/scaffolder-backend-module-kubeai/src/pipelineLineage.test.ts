/*
 * End to end, lineage that closes itself: the retrain pipeline is created from its template
 * through the scaffolder; then its steps run as Argo would run them — each step's command with the
 * env of its pod spec and the run credential of the Secret its pod spec mounts (read from the
 * apiserver), placeholders substituted, nothing typed by hand. The version the register step
 * creates carries the pipeline's run id, the canary and the promotion are deployment revisions
 * made by that run, and `GET /lineage` of the service shows dataset version → run → model version
 * → service. The same credential is refused for another model, service, run and route.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import YAML from 'yaml';
import {
  createNamespace,
  deleteNamespace,
  kube,
  KIND_PATHS,
  readObject,
} from './__testUtils__/localCluster';
import { startScaffolderBackend } from './__testUtils__/scaffolderBackend';

jest.setTimeout(300_000);

const run = promisify(execFile);
const NS = `kubeai-lineagee2e-${randomBytes(3).toString('hex')}`;
const API = '/api/kubeai';
const cli = path.resolve(__dirname, '../../kubeai-backend/cli/kubeai.py');

const entities = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: ml-platform }
spec: { type: team, children: [] }
---
apiVersion: kubeai.io/v1alpha1
kind: Model
metadata: { name: lineage-model }
spec: { type: classification, framework: pytorch, owner: group:default/ml-platform, lifecycle: production }
---
apiVersion: kubeai.io/v1alpha1
kind: Model
metadata: { name: other-model }
spec: { type: classification, framework: pytorch, owner: group:default/ml-platform, lifecycle: production }
---
apiVersion: kubeai.io/v1alpha1
kind: Dataset
metadata: { name: lineage-images }
spec:
  owner: group:default/ml-platform
  lifecycle: production
  source: { type: pvc, claimName: lineage-images, namespace: ${NS} }
---
apiVersion: kubeai.io/v1alpha1
kind: InferenceService
metadata: { name: lineage-serving }
spec: { owner: group:default/ml-platform, lifecycle: production, model: model:default/lineage-model }
`;

type Template = Record<string, any>;

describe('a retrain pipeline closes the lineage by itself', () => {
  let backend: Awaited<ReturnType<typeof startScaffolderBackend>>;
  let scratch: string;
  /** Output parameters of the steps run so far, as Argo keeps them. */
  const outputs: Record<string, Record<string, string>> = {};
  let workflow: Record<string, any>;

  const templateOf = (name: string): Template =>
    workflow.spec.templates.find((t: Template) => t.name === name);

  /** A string as Argo renders it for this workflow, files under /tmp in the scratch dir. */
  const render = (text: string) =>
    text
      .replace(/\{\{workflow\.name\}\}/g, workflow.metadata.name)
      .replace(
        /\{\{tasks\.([^.]+)\.outputs\.parameters\.([^}]+)\}\}/g,
        (_m, task, parameter) => outputs[task][parameter],
      )
      .replace(/^\/tmp\//, `${scratch}/tmp/`);

  /**
   * The env a pod spec gives its container, with the run credential its volumes mount: the token
   * of the Secret the pod spec names, at the mount path (under the scratch dir).
   */
  async function podEnv(
    container: Template,
    volumes: Template[],
  ): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) env[e.name] = render(e.value);
    for (const mount of container.volumeMounts ?? []) {
      const volume = volumes.find(v => v.name === mount.name);
      if (!volume?.secret) continue;
      const secret = await readObject('Secret', NS, volume.secret.secretName);
      const dir = path.join(scratch, mount.mountPath);
      fs.mkdirSync(dir, { recursive: true });
      for (const [key, value] of Object.entries<string>(secret.data)) {
        fs.writeFileSync(
          path.join(dir, key),
          Buffer.from(value, 'base64').toString(),
        );
      }
    }
    for (const [name, value] of Object.entries(env)) {
      if (value.startsWith('/var/run/secrets/')) {
        env[name] = path.join(scratch, value);
      }
    }
    return env;
  }

  /** Runs a container step as Argo would, and collects its output parameters. */
  async function runStep(name: string) {
    const template = templateOf(name);
    const env = await podEnv(template.container, template.volumes ?? []);
    const [command, ...commandArgs] = template.container.command;
    const args = [...commandArgs, ...template.container.args.map(render)];
    fs.mkdirSync(path.join(scratch, 'tmp/kubeai'), { recursive: true });
    const result = await run(command, args, {
      env: { PATH: process.env.PATH, ...env },
    }).catch(error => {
      throw new Error(`step ${name}: ${error.stderr || error.message}`);
    });
    outputs[name] = {};
    for (const p of template.outputs?.parameters ?? []) {
      outputs[name][p.name] = fs
        .readFileSync(render(p.valueFrom.path), 'utf8')
        .trim();
    }
    return result.stdout;
  }

  beforeAll(async () => {
    await createNamespace(NS);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-lineage-'));
    backend = await startScaffolderBackend({
      entities,
      waitFor: [
        'model:default/lineage-model',
        'inferenceservice:default/lineage-serving',
        'template:default/kubeai-pipeline-retrain-canary',
      ],
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await deleteNamespace(NS);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('creates the pipeline from its template and runs its steps with the run credential only', async () => {
    const { server } = backend;
    // what serves today: v1, deployed by a user
    await request(server)
      .post(`${API}/models/default/lineage-model/versions`)
      .send({
        artifact: { uri: 's3://models/lineage/v1/model.onnx', format: 'onnx' },
      })
      .expect(201);
    await request(server)
      .post(`${API}/inference-services`)
      .send({
        cluster: 'local',
        namespace: NS,
        name: 'lineage-serving',
        model: 'model:default/lineage-model',
        modelVersion: 1,
      })
      .expect(201);

    await backend.runTask('kubeai-pipeline-retrain-canary', {
      cluster: 'local',
      namespace: NS,
      name: 'lineage-retrain',
      model: 'model:default/lineage-model',
      dataset: 'dataset:default/lineage-images',
      trainerImage: 'ghcr.io/acme/trainer:1.0',
      workers: 1,
      gpu: 0,
      artifactPrefix: 's3://models/lineage',
      accuracyThreshold: 0.9,
      service: 'lineage-serving',
      canaryTrafficPercent: 20,
    });
    workflow = await readObject('Workflow', NS, 'lineage-retrain');
    const runId = workflow.metadata.labels['kubeai.io/run'];
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);

    // retrain: Argo creates the PyTorchJob of the resource template; its training code records
    // the dataset version it read, with the env and credential of its own pod spec
    const job = YAML.parse(render(templateOf('retrain').resource.manifest));
    job.metadata.name = `${job.metadata.generateName}x1`;
    delete job.metadata.generateName;
    const created = await kube(
      'POST',
      KIND_PATHS.PyTorchJob.replace('{ns}', NS),
      job,
    );
    expect(created.status).toBe(201);
    const worker = created.body.spec.pytorchReplicaSpecs.Worker.template;
    expect(worker.metadata.labels['kubeai.io/run']).toBe(runId);
    const workerEnv = await podEnv(
      worker.spec.containers[0],
      worker.spec.volumes,
    );
    await run(
      'python3',
      [
        cli,
        'dataset-version',
        'dataset:default/lineage-images',
        '--version',
        '2026-12-03',
        '--uri',
        `pvc://local/${NS}/lineage-images@2026-12-03`,
      ],
      { env: { PATH: process.env.PATH, ...workerEnv } },
    );

    // evaluate (the trainer image's code): its outputs
    outputs.evaluate = {
      metrics: JSON.stringify({ accuracy: 0.95, auc: 0.97 }),
      accuracy: '0.95',
    };
    await runStep('register');
    expect(outputs.register.version).toBe('2');
    await runStep('canary');
    outputs['canary-check'] = { healthy: 'true' };
    await runStep('promote');

    // the version carries the run id; the run names its input version and its output
    const version = await request(server)
      .get(`${API}/models/default/lineage-model/versions/2`)
      .expect(200);
    expect(version.body).toMatchObject({
      runId,
      createdBy: `run:${runId}`,
      metrics: { accuracy: 0.95, auc: 0.97 },
      tags: expect.arrayContaining(['pipeline:lineage-retrain']),
    });
    const pipelineRun = await request(server)
      .get(`${API}/runs/${runId}`)
      .expect(200);
    expect(pipelineRun.body).toMatchObject({
      kind: 'pipeline',
      inputs: [
        { datasetRef: 'dataset:default/lineage-images', version: '2026-12-03' },
      ],
      outputs: [{ modelRef: 'model:default/lineage-model', version: 2 }],
    });

    // the canary and the promotion: deployment revisions made by the pipeline run
    const revisions = await request(server)
      .get(`${API}/deployments/default/lineage-serving/revisions`)
      .expect(200);
    const byRun = revisions.body.items.filter(
      (r: { createdBy: string }) => r.createdBy === `run:${runId}`,
    );
    expect(byRun.map((r: { traffic: unknown }) => r.traffic)).toEqual(
      expect.arrayContaining([
        [
          { version: 1, percent: 80 },
          { version: 2, percent: 20 },
        ],
        [{ version: 2, percent: 100 }],
      ]),
    );
    const live = await readObject('InferenceService', NS, 'lineage-serving');
    expect(live.spec.predictor.canaryTrafficPercent).toBeUndefined();
    expect(live.spec.predictor.model.storageUri).toBe(
      's3://models/lineage/lineage-retrain/model.onnx',
    );

    // the lineage of the service: dataset version → run → model version → service
    const lineage = await request(server)
      .get(`${API}/lineage`)
      .query({ entityRef: 'inferenceservice:default/lineage-serving' })
      .expect(200);
    const nodes: Array<Record<string, string>> = lineage.body.nodes;
    const edges: Array<Record<string, string>> = lineage.body.edges;
    const id = (match: Record<string, string>) => {
      const node = nodes.find(n =>
        Object.entries(match).every(([k, v]) => n[k] === v),
      );
      if (!node) {
        throw new Error(
          `no node ${JSON.stringify(match)} in ${JSON.stringify(nodes)}`,
        );
      }
      return node.id;
    };
    const linked = (from: string, to: string) =>
      edges.some(e => e.from === from && e.to === to);
    const datasetVersion = id({
      type: 'datasetVersion',
      version: '2026-12-03',
    });
    const runNode = id({ type: 'run', runId });
    const modelVersion = id({
      type: 'modelVersion',
      entityRef: 'model:default/lineage-model',
      version: '2',
    });
    const service = id({
      type: 'inferenceService',
      entityRef: 'inferenceservice:default/lineage-serving',
    });
    expect([
      linked(datasetVersion, runNode),
      linked(runNode, modelVersion),
      linked(modelVersion, service),
    ]).toEqual([true, true, true]);
  });

  it('refuses the pipeline’s credential for another model, service, run and route', async () => {
    const { server } = backend;
    const env = await podEnv(
      templateOf('register').container,
      templateOf('register').volumes,
    );
    const token = fs.readFileSync(env.KUBEAI_RUN_TOKEN_FILE, 'utf8');
    const asRun = (req: request.Test) =>
      req.set('Authorization', `Bearer ${token}`);
    const refused = [
      await asRun(
        request(server).post(`${API}/models/default/other-model/versions`),
      ).send({ artifact: { uri: 's3://x/y', format: 'onnx' } }),
      await asRun(request(server).post(`${API}/inference-services`)).send({
        cluster: 'local',
        namespace: NS,
        name: 'another-service',
        model: 'model:default/lineage-model',
        modelVersion: 2,
      }),
      await asRun(
        request(server).post(
          `${API}/inference-services/local/${NS}/lineage-serving/rollback`,
        ),
      ).send({}),
      await asRun(
        request(server).patch(
          `${API}/runs/00000000-0000-4000-8000-000000000000`,
        ),
      ).send({ phase: 'Failed' }),
    ];
    expect(refused.map(r => r.status)).toEqual([403, 403, 403, 403]);
    for (const path_ of [
      '/runs',
      '/lineage?entityRef=model:default/lineage-model',
    ]) {
      const answer = await asRun(request(server).get(`${API}${path_}`));
      expect([401, 403]).toContain(answer.status);
    }
    const versions = await request(server).get(
      `${API}/models/default/other-model/versions`,
    );
    expect(versions.body.items).toEqual([]);
    expect(
      await readObject('InferenceService', NS, 'another-service'),
    ).toBeUndefined();
  });
});
