/*
 * The registration CLI (cli/kubeai.py) as training code runs it: a real training task is created
 * through POST /jobs on the local kube-apiserver, the CLI gets exactly the env its Job's pod
 * template lists (read back from the apiserver) and the run's token from its Secret (written to a
 * file, as the mounted Secret would be), and calls the backend over HTTP.
 */
import { mockCredentials } from '@backstage/backend-test-utils';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import {
  API,
  clusterRoutesSuite,
} from '../service/__testUtils__/clusterRoutesSuite';

jest.setTimeout(180_000);

const CLI = resolve(__dirname, '../../cli/kubeai.py');

const { NS, startBackend, databases, readBack, seedRegistry } =
  clusterRoutesSuite('kubeaicli');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with this process's env minus any KUBEAI_*, plus `env` (async: the backend answers from this process). */
async function runCli(
  args: string[],
  env: Record<string, string>,
  options: { asPipelineStep?: boolean } = {},
): Promise<Result> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('KUBEAI_')),
  );
  // pipeline steps run the source with `python3 -c` (manifests/kubeaiCli.ts)
  const program = options.asPipelineStep
    ? ['-c', readFileSync(CLI, 'utf8')]
    : [CLI];
  const child = spawn('python3', [...program, ...args], {
    env: { ...base, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', d => (stdout += d));
  child.stderr.on('data', d => (stderr += d));
  const [code] = await once(child, 'close');
  return { code, stdout, stderr };
}

describe('kubeai CLI in a training task', () => {
  let server: Awaited<ReturnType<typeof startBackend>>['server'];
  let stop: () => Promise<void>;
  let runId: string;
  let podEnv: Record<string, string>;
  let dir: string;

  const job = {
    cluster: 'local',
    namespace: NS,
    name: 'shoe-train-cli',
    kind: 'Job',
    image: 'ghcr.io/acme/shoe-trainer:1.4',
    command: ['python', '-m', 'shoe.train'],
    modelRef: 'model:default/shoe-brand',
    datasets: [{ datasetRef: 'dataset:default/shoe-images' }],
  };
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { ...podEnv, ...env });
  const versionsOf = async (model: string) =>
    (await request(server).get(`${API}/models/default/${model}/versions`)).body
      .items as Array<{ version: number }>;

  beforeAll(async () => {
    const backend = await startBackend(await databases.init('SQLITE_3'));
    server = backend.server;
    stop = () => backend.stop();
    await seedRegistry(server);
    const created = await request(server).post(`${API}/jobs`).send(job);
    if (created.status !== 201) {
      throw new Error(`POST /jobs: ${created.status} ${created.text}`);
    }
    runId = created.body.run.id;

    dir = mkdtempSync(join(tmpdir(), 'kubeai-cli-'));
    const secret = await readBack('v1', 'Secret', `${job.name}-kubeai-run`);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, Buffer.from(secret.data.token, 'base64'));
    const stored = await readBack('batch/v1', 'Job', job.name);
    const [container] = stored.spec.template.spec.containers;
    podEnv = Object.fromEntries(
      (container.env as Array<{ name: string; value: string }>)
        .filter(e => e.name.startsWith('KUBEAI_'))
        .map(e => [e.name, e.value]),
    );
    // the mounted Secret's path in the pod, here the file written above
    if (podEnv.KUBEAI_RUN_TOKEN_FILE !== '/var/run/secrets/kubeai/token') {
      throw new Error(`token file ${podEnv.KUBEAI_RUN_TOKEN_FILE}`);
    }
    podEnv.KUBEAI_RUN_TOKEN_FILE = tokenFile;
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await stop();
  });

  it('registers a version of the run’s model with the run id, metrics, curves and params', async () => {
    const metricsFile = join(dir, 'metrics.json');
    writeFileSync(metricsFile, JSON.stringify({ auc: 0.93, f1: 0.88 }));
    const curves = {
      roc: [
        { fpr: 0, tpr: 0 },
        { fpr: 0.1, tpr: 0.8, threshold: 0.5 },
        { fpr: 1, tpr: 1 },
      ],
      pr: [{ precision: 0.9, recall: 0.7 }],
    };
    const output = join(dir, 'out', 'model-version.json');
    const versionFile = join(dir, 'out', 'version');
    const result = await cli([
      'register',
      '--artifact',
      's3://models/shoe-brand/cli/model.onnx',
      '--format',
      'onnx',
      '--framework',
      'pytorch',
      '--digest',
      `sha256:${'ab'.repeat(32)}`,
      '--size',
      '1024',
      '--metrics',
      metricsFile,
      '--curves',
      JSON.stringify(curves),
      '--params',
      '{"lr": 0.001, "epochs": 10}',
      '--tag',
      'cli',
      '--alias',
      'candidate',
      '--output',
      output,
      '--version-file',
      versionFile,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed).toMatchObject({
      modelRef: 'model:default/shoe-brand',
      version: 4, // after the seeded 1–3
      runId,
      createdBy: `run:${runId}`,
      artifact: {
        uri: 's3://models/shoe-brand/cli/model.onnx',
        format: 'onnx',
        size: 1024,
      },
      metrics: { auc: 0.93, f1: 0.88 },
      curves,
      params: { lr: 0.001, epochs: 10 },
      tags: ['cli'],
    });
    const stored = await request(server)
      .get(`${API}/models/default/shoe-brand/versions/4`)
      .expect(200);
    expect(stored.body).toMatchObject({
      runId,
      metrics: printed.metrics,
      curves,
      aliases: ['candidate'],
    });
    expect(JSON.parse(readFileSync(output, 'utf8'))).toEqual(printed);
    expect(readFileSync(versionFile, 'utf8')).toBe('4');
  });

  it('reports the run’s phase, metrics and start', async () => {
    const result = await cli([
      'report',
      '--phase',
      'Running',
      '--message',
      'epoch 3 of 10',
      '--metrics',
      '{"loss": 0.25}',
      '--started-at',
      'now',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const run = await request(server).get(`${API}/runs/${runId}`).expect(200);
    expect(run.body).toMatchObject({
      phase: 'Running',
      message: 'epoch 3 of 10',
      metrics: { loss: 0.25 },
    });
    expect(Date.now() - Date.parse(run.body.startedAt)).toBeLessThan(60_000);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: runId });
  });

  it('records the dataset version the run read as its input', async () => {
    const result = await cli([
      'dataset-version',
      'dataset:default/shoe-images',
      '--version',
      'v2',
      '--uri',
      `pvc://local/${NS}/shoe-images@v2`,
      '--size',
      '2048',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      datasetRef: 'dataset:default/shoe-images',
      version: 'v2',
    });
    const run = await request(server).get(`${API}/runs/${runId}`).expect(200);
    expect(run.body.inputs).toContainEqual({
      datasetRef: 'dataset:default/shoe-images',
      version: 'v2',
    });
  });

  it('exits non-zero with the API’s message when the run credential is refused', async () => {
    const otherModel = await cli([
      'register',
      '--model',
      'model:default/other-model',
      '--artifact',
      's3://x/y',
      '--format',
      'onnx',
    ]);
    expect(otherModel.code).toBe(1);
    expect(otherModel.stdout).toBe('');
    expect(otherModel.stderr).toContain(': 403 ');
    expect(otherModel.stderr).toContain(
      'registers versions of model:default/shoe-brand only, not of model:default/other-model',
    );
    expect(await versionsOf('other-model')).toEqual([]);

    // a training task's credential rolls nothing out
    const deploy = await cli([
      'deploy',
      '--service',
      'shoe-brand',
      '--model-version',
      '4',
    ]);
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain(': 403 ');
    expect(deploy.stderr).toContain('rolls out InferenceServices (none) only');
  });

  it('refuses bad JSON naming the flag, before anything is sent or written', async () => {
    const before = await versionsOf('shoe-brand');
    const output = join(dir, 'bad', 'model-version.json');
    const badFile = join(dir, 'bad-curves.json');
    writeFileSync(badFile, '{"roc": [');
    const cases: Array<[string, string, string]> = [
      ['--metrics', '{"auc": 0.9', '--metrics: inline JSON is not valid JSON'],
      ['--curves', badFile, `--curves: ${badFile} is not valid JSON`],
      ['--params', '[1, 2]', '--params: must be a JSON object'],
      ['--metrics', join(dir, 'missing.json'), '--metrics: cannot read'],
    ];
    for (const [flag, value, message] of cases) {
      const result = await cli([
        'register',
        '--artifact',
        's3://models/shoe-brand/bad/model.onnx',
        '--format',
        'onnx',
        flag,
        value,
        '--output',
        output,
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe('');
    }
    expect(await versionsOf('shoe-brand')).toEqual(before);
    expect(() => readFileSync(output)).toThrow(/ENOENT/);

    const report = await cli(['report', '--metrics', 'not json{']);
    expect(report.code).toBe(2);
    expect(report.stderr).toContain('--metrics: cannot read not json{');
  });

  it('deploys and promotes with a user’s token (KUBEAI_TOKEN) in the run’s cluster and namespace', async () => {
    const asUser = { KUBEAI_TOKEN: mockCredentials.user.token() };
    const first = await cli(
      [
        'deploy',
        '--service',
        'shoe-brand',
        '--model-version',
        '1',
        '--message',
        'first',
        '--extra',
        '{"catalogEntity": {"owner": "group:default/cv-team"}, "minReplicas": 1}',
      ],
      asUser,
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).deployment).toMatchObject({
      cluster: 'local',
      namespace: NS,
      modelRef: 'model:default/shoe-brand',
      revision: 1,
      traffic: [{ version: 1, percent: 100 }],
    });

    const canary = await cli(
      [
        'deploy',
        '--service',
        'shoe-brand',
        '--model-version',
        'candidate', // an alias: version 4, moved by the registration above
        '--canary',
        '20',
      ],
      asUser,
    );
    expect(canary.stderr).toBe('');
    expect(JSON.parse(canary.stdout).deployment).toMatchObject({
      revision: 2,
      traffic: [
        { version: 1, percent: 80 },
        { version: 4, percent: 20 },
      ],
    });

    const promoted = await cli(
      ['promote', '--service', 'shoe-brand', '--message', 'looks good'],
      asUser,
    );
    expect(promoted.stderr).toBe('');
    expect(JSON.parse(promoted.stdout).deployment).toMatchObject({
      revision: 3,
      traffic: [{ version: 4, percent: 100 }],
    });
    const stored = await readBack(
      'serving.kserve.io/v1beta1',
      'InferenceService',
      'shoe-brand',
    );
    expect(stored.spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    expect(stored.spec.predictor.model.storageUri).toBe(
      's3://models/shoe-brand/cli/model.onnx',
    );

    const again = await cli(['promote', '--service', 'shoe-brand'], asUser);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(': 409 ');
    expect(again.stderr).toContain('has no canary to promote');
  });
});

describe('kubeai CLI retries', () => {
  /** A stand-in API answering `statuses` in turn, recording each request. */
  async function fakeApi(statuses: number[]) {
    const seen: Array<{
      method?: string;
      url?: string;
      auth?: string;
      body?: unknown;
    }> = [];
    const server = createServer(async (req: IncomingMessage, res) => {
      const entry = {
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        body: undefined as unknown,
      };
      seen.push(entry);
      let text = '';
      for await (const chunk of req) text += chunk;
      entry.body = JSON.parse(text);
      const status = statuses[Math.min(seen.length - 1, statuses.length - 1)];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          status < 300
            ? { id: 'r1', version: 7 }
            : { error: { name: 'Error', message: `answer ${status}` } },
        ),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    return {
      seen,
      url: `http://127.0.0.1:${port}/api/kubeai/`,
      close: () => new Promise(r => server.close(r)),
    };
  }
  const env = (url: string) => ({
    KUBEAI_API_URL: url,
    KUBEAI_RUN_ID: 'r1',
    KUBEAI_TOKEN: 'a-backstage-token',
    KUBEAI_RETRY_DELAY: '0.05',
  });

  it('retries 502/503/504 with the token each time, and succeeds', async () => {
    const api = await fakeApi([503, 502, 504, 200]);
    try {
      const result = await runCli(
        ['report', '--phase', 'Running'],
        env(api.url),
      );
      expect(result.code).toBe(0);
      expect(api.seen).toHaveLength(4);
      expect(api.seen[3]).toEqual({
        method: 'PATCH',
        url: '/api/kubeai/runs/r1',
        auth: 'Bearer a-backstage-token',
        body: { phase: 'Running' },
      });
      expect(result.stderr).toContain('retry 3 of 3');
    } finally {
      await api.close();
    }
  });

  it('sends the run id of the env also with a user’s token, as a pipeline step runs it', async () => {
    const api = await fakeApi([201]);
    const dir = mkdtempSync(join(tmpdir(), 'kubeai-cli-'));
    try {
      const result = await runCli(
        [
          'register',
          '--model',
          'team-a/forecast',
          '--artifact',
          's3://m/forecast/7',
          '--format',
          'pickle',
          '--metrics',
          '', // an Argo parameter with no value: none
          '--version-file',
          join(dir, 'tmp', 'kubeai', 'version'),
        ],
        { ...env(api.url), KUBEAI_MODEL: 'model:default/ignored' },
        { asPipelineStep: true },
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(api.seen).toEqual([
        expect.objectContaining({
          method: 'POST',
          url: '/api/kubeai/models/team-a/forecast/versions',
          body: {
            artifact: {
              uri: 's3://m/forecast/7',
              format: 'pickle',
            },
            runId: 'r1',
          },
        }),
      ]);
      expect(readFileSync(join(dir, 'tmp', 'kubeai', 'version'), 'utf8')).toBe(
        '7',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await api.close();
    }
  });

  it('gives up after 3 retries, and never retries a 4xx', async () => {
    const unavailable = await fakeApi([503]);
    const refused = await fakeApi([400, 200]);
    try {
      const down = await runCli(
        ['report', '--phase', 'Running'],
        env(unavailable.url),
      );
      expect(down.code).toBe(1);
      expect(unavailable.seen).toHaveLength(4);
      expect(down.stderr).toContain('503 answer 503');

      const bad = await runCli(
        ['report', '--phase', 'Running'],
        env(refused.url),
      );
      expect(bad.code).toBe(1);
      expect(refused.seen).toHaveLength(1);
      expect(bad.stderr).toContain('400 answer 400');
    } finally {
      await unavailable.close();
      await refused.close();
    }
    // nothing listening: connection errors are retried, then reported
    const closed = await runCli(
      ['report', '--phase', 'Running'],
      env(unavailable.url),
    );
    expect(closed.code).toBe(1);
    expect(closed.stderr.match(/retry \d of 3/g)).toHaveLength(3);
    expect(closed.stderr).toMatch(/Connection refused/i);
  });
});
