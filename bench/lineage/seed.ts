/*
 * The synthetic registry of the lineage benchmark, written with batch inserts into the tables the
 * RegistryStore's migrations create (the store's own write path numbers versions one transaction at
 * a time, too slow to load 100,000 versions for a benchmark).
 *
 *   2,000 models, 100,000 model versions:
 *     the hot model `model:default/hot-model`: 1,000 versions, each produced by a run, 20,000 runs in
 *     all (19,000 failed / stopped attempts without outputs), 500 inference services serving its
 *     versions (one in five with a 90/10 canary split);
 *     1,999 other models: 99,000 versions, 10 % of them with a run, 1,000 services.
 *   200 datasets × 20 versions; every run reads two dataset versions, one run in ten also a whole
 *   dataset (no version).
 *   `model:default/forecast`: a periodic task (one run, reading two dataset versions) with 20,000
 *   executions — child runs, as the informers write them (no inputs of their own; 90 % Succeeded,
 *   8 % Failed, 2 % Running) — one in a hundred of which produced a version (200 versions).
 */
import { Knex } from 'knex';

export const HOT_MODEL = 'model:default/hot-model';
/** The model of a periodic task with 20,000 executions (child runs). */
export const FORECAST_MODEL = 'model:default/forecast';
export const FORECAST_EXECUTIONS = 20_000;

export interface SeedCounts {
  models: number;
  modelVersions: number;
  hotVersions: number;
  runs: number;
  hotRuns: number;
  runInputs: number;
  datasetVersions: number;
  services: number;
  hotServices: number;
  forecastExecutions: number;
  forecastVersions: number;
}

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number) {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const runId = (n: number) =>
  `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export async function seedRegistry(knex: Knex): Promise<SeedCounts> {
  const rand = random(42);
  const now = new Date('2026-11-20T00:00:00Z').getTime();
  const at = (n: number) => new Date(now + n * 1000).toISOString();
  const actor = 'user:default/bench';
  const pick = <T>(items: T[]) => items[Math.floor(rand() * items.length)];

  const datasetVersions: Record<string, unknown>[] = [];
  const datasetKeys: { ref: string; version: string }[] = [];
  for (let d = 0; d < 200; d++) {
    for (let v = 0; v < 20; v++) {
      const ref = `dataset:default/ds-${d}`;
      datasetKeys.push({ ref, version: `v${v}` });
      datasetVersions.push({
        dataset_ref: ref,
        version: `v${v}`,
        uri: `s3://datasets/ds-${d}/v${v}/`,
        digest: null,
        size: 1_000_000 * (v + 1),
        description: null,
        created_by: actor,
        created_at: at(d * 20 + v),
      });
    }
  }

  const runs: Record<string, unknown>[] = [];
  const runInputs: Record<string, unknown>[] = [];
  let runCounter = 0;
  const addRun = (
    modelRef: string,
    phase: string,
    parent?: { id: string; children?: number },
  ) => {
    const id = runId(++runCounter);
    runs.push({
      id,
      kind: 'training',
      cluster: 'prod',
      namespace: 'ml',
      name: `train-${runCounter}`,
      uid: null,
      model_ref: modelRef,
      phase,
      message: null,
      started_at: at(runCounter),
      finished_at: at(runCounter + 600),
      params: JSON.stringify({ lr: 0.001, epochs: 10 }),
      created_by: actor,
      created_at: at(runCounter),
      updated_at: at(runCounter),
      parent_run_id: parent?.id || null,
      child_count: parent?.children ?? 0,
    });
    // executions have no inputs of their own: the task's are theirs
    if (parent?.id) return id;
    const a = pick(datasetKeys);
    let b = pick(datasetKeys);
    while (b === a) b = pick(datasetKeys);
    for (const input of [a, b]) {
      runInputs.push({
        run_id: id,
        dataset_ref: input.ref,
        dataset_version: input.version,
      });
    }
    if (rand() < 0.1) {
      runInputs.push({
        run_id: id,
        dataset_ref: `dataset:default/ds-${Math.floor(rand() * 200)}`,
        dataset_version: null,
      });
    }
    return id;
  };

  const modelVersions: Record<string, unknown>[] = [];
  const addVersion = (modelRef: string, version: number, run: string | null) =>
    modelVersions.push({
      model_ref: modelRef,
      version,
      artifact_uri: `s3://models/${
        modelRef.split('/')[1]
      }/${version}/model.onnx`,
      artifact_format: 'onnx',
      artifact_digest: null,
      artifact_size: 100_000_000,
      framework: 'pytorch',
      description: null,
      metrics: JSON.stringify({
        auc: 0.9 + rand() / 20,
        f1: 0.8 + rand() / 10,
      }),
      curves: null,
      params: JSON.stringify({ lr: 0.001 }),
      tags: '[]',
      state: 'live',
      run_id: run,
      created_by: actor,
      created_at: at(version),
      updated_at: at(version),
    });

  // the hot model: 1,000 versions from 1,000 runs, and 19,000 runs without outputs
  for (let v = 1; v <= 1000; v++) {
    addVersion(HOT_MODEL, v, addRun(HOT_MODEL, 'Succeeded'));
  }
  for (let i = 0; i < 19_000; i++) {
    addRun(HOT_MODEL, i % 3 === 0 ? 'Stopped' : 'Failed');
  }
  const hotRuns = runCounter;

  // 1,999 other models with 99,000 versions
  const otherModels = 1999;
  const otherVersions = 99_000;
  for (let m = 0; m < otherModels; m++) {
    const ref = `model:default/model-${m}`;
    const count =
      Math.floor(otherVersions / otherModels) +
      (m < otherVersions % otherModels ? 1 : 0);
    for (let v = 1; v <= count; v++) {
      addVersion(ref, v, rand() < 0.1 ? addRun(ref, 'Succeeded') : null);
    }
  }

  // the forecasting model: a periodic task and its executions
  const task = addRun(FORECAST_MODEL, 'Running', {
    id: '',
    children: FORECAST_EXECUTIONS,
  });
  let forecastVersions = 0;
  for (let e = 1; e <= FORECAST_EXECUTIONS; e++) {
    const phase =
      e % 50 === 0 ? 'Running' : e % 12 === 0 ? 'Failed' : 'Succeeded';
    const execution = addRun(
      FORECAST_MODEL,
      e % 100 === 0 ? 'Succeeded' : phase,
      {
        id: task,
      },
    );
    if (e % 100 === 0)
      addVersion(FORECAST_MODEL, ++forecastVersions, execution);
  }

  // services: 500 on the hot model, 1,000 on the others
  const deployments: Record<string, unknown>[] = [];
  const traffic: Record<string, unknown>[] = [];
  const revisions: Record<string, unknown>[] = [];
  const addService = (
    name: string,
    modelRef: string,
    split: { version: number; percent: number }[],
  ) => {
    const serviceRef = `inferenceservice:default/${name}`;
    deployments.push({
      service_ref: serviceRef,
      cluster: 'prod',
      namespace: 'serving',
      name,
      model_ref: modelRef,
      revision: 1,
      traffic: JSON.stringify(split),
      desired: JSON.stringify({ replicas: 2 }),
      observed: JSON.stringify({ phase: 'Ready' }),
      observed_at: at(0),
      created_at: at(0),
      updated_at: at(0),
      updated_by: actor,
    });
    for (const t of split) {
      traffic.push({
        service_ref: serviceRef,
        model_ref: modelRef,
        version: t.version,
        percent: t.percent,
      });
    }
    revisions.push({
      service_ref: serviceRef,
      revision: 1,
      model_ref: modelRef,
      traffic: JSON.stringify(split),
      desired: JSON.stringify({ replicas: 2 }),
      message: null,
      created_by: actor,
      created_at: at(0),
    });
  };
  for (let s = 0; s < 500; s++) {
    const v = 1000 - (s % 100);
    addService(
      `hot-svc-${s}`,
      HOT_MODEL,
      s % 5 === 0
        ? [
            { version: v, percent: 90 },
            { version: v - 1, percent: 10 },
          ]
        : [{ version: v, percent: 100 }],
    );
  }
  for (let s = 0; s < 1000; s++) {
    addService(`svc-${s}`, `model:default/model-${s}`, [
      { version: 1, percent: 100 },
    ]);
  }

  await knex.transaction(async tx => {
    const insert = (table: string, rows: Record<string, unknown>[]) =>
      tx.batchInsert(table, rows, 500);
    await insert('kubeai_dataset_versions', datasetVersions);
    await insert('kubeai_runs', runs);
    await insert('kubeai_run_inputs', runInputs);
    await insert('kubeai_model_versions', modelVersions);
    await insert('kubeai_deployments', deployments);
    await insert('kubeai_deployment_traffic', traffic);
    await insert('kubeai_deployment_revisions', revisions);
  });

  return {
    models: 2 + otherModels,
    modelVersions: modelVersions.length,
    hotVersions: 1000,
    runs: runs.length,
    hotRuns,
    runInputs: runInputs.length,
    datasetVersions: datasetVersions.length,
    services: deployments.length,
    hotServices: 500,
    forecastExecutions: FORECAST_EXECUTIONS,
    forecastVersions,
  };
}
