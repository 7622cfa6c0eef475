/*
 * The synthetic registry of the lineage benchmark, written with multi-row inserts into the tables
 * the RegistryStore's migrations create (the store's own write path numbers versions one
 * transaction at a time, too slow to load a million versions for a benchmark). Rows are generated
 * and flushed in chunks, so a million versions never sit in memory at once.
 *
 *   `versions` model versions in all (default 100,000):
 *     10 hot models (`model:default/hot-model`, `…/hot-model-1` … `-9`): 1,000 versions each, each
 *     produced by a run, 20,000 runs each (19,000 failed / stopped attempts without outputs), 500
 *     inference services on each (one in five with a 90/10 canary split);
 *     the other versions over models of 50 versions each, 10 % of them with a run; 1,000 services.
 *   200 datasets × 20 versions; every run reads two dataset versions, one run in ten also a whole
 *   dataset (no version).
 *   `model:default/forecast`: a periodic task (one run, reading two dataset versions) with 20,000
 *   executions — child runs, as the informers write them (no inputs of their own; 90 % Succeeded,
 *   8 % Failed, 2 % Running) — one in a hundred of which produced a version (200 versions).
 */
import { Knex } from 'knex';

export const HOT_MODEL = 'model:default/hot-model';
export const HOT_MODELS = [
  HOT_MODEL,
  ...Array.from({ length: 9 }, (_, i) => `model:default/hot-model-${i + 1}`),
];
/** The model of a periodic task with 20,000 executions (child runs). */
export const FORECAST_MODEL = 'model:default/forecast';
export const FORECAST_EXECUTIONS = 20_000;
const HOT_VERSIONS = 1000;
const HOT_RUNS = 20_000;
const HOT_SERVICES = 500;
const VERSIONS_PER_OTHER_MODEL = 50;

export interface SeedCounts {
  models: number;
  modelVersions: number;
  hotModels: number;
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

/** Tables a table's foreign keys point to: flushed first. */
const DEPENDS: Record<string, string[]> = {
  kubeai_model_versions: ['kubeai_runs'],
  kubeai_run_inputs: ['kubeai_runs'],
  kubeai_deployment_traffic: ['kubeai_deployments', 'kubeai_model_versions'],
  kubeai_deployment_revisions: ['kubeai_deployments'],
};

/**
 * Buffers rows per table and writes them as multi-row inserts, as many rows per statement as the
 * driver allows (bind parameters: SQLite 32,766, PostgreSQL 65,535).
 */
class Sink {
  readonly #buffers = new Map<string, Record<string, unknown>[]>();
  readonly #written = new Map<string, number>();
  constructor(private readonly tx: Knex.Transaction) {}

  async add(table: string, row: Record<string, unknown>) {
    let buffer = this.#buffers.get(table);
    if (!buffer) this.#buffers.set(table, (buffer = []));
    buffer.push(row);
    if (buffer.length >= 20_000) await this.flush(table);
  }

  async flush(table: string): Promise<void> {
    for (const dependency of DEPENDS[table] ?? []) await this.flush(dependency);
    const rows = this.#buffers.get(table);
    if (!rows?.length) return;
    this.#buffers.set(table, []);
    // SQLite: knex writes a multi-row insert as a compound SELECT (at most 500 terms)
    const sqlite = this.tx.client.config.client !== 'pg';
    const perStatement = Math.min(
      sqlite ? 500 : Infinity,
      Math.floor(30_000 / Object.keys(rows[0]).length),
    );
    for (let i = 0; i < rows.length; i += perStatement) {
      await this.tx(table).insert(rows.slice(i, i + perStatement));
    }
    this.#written.set(table, (this.#written.get(table) ?? 0) + rows.length);
  }

  async flushAll() {
    for (const table of [...this.#buffers.keys()]) await this.flush(table);
  }

  written(table: string) {
    return this.#written.get(table) ?? 0;
  }
}

export async function seedRegistry(
  knex: Knex,
  options: { versions?: number; log?: (message: string) => void } = {},
): Promise<SeedCounts> {
  const totalVersions = options.versions ?? 100_000;
  const log = options.log ?? (() => {});
  const otherVersions =
    totalVersions -
    HOT_MODELS.length * HOT_VERSIONS -
    FORECAST_EXECUTIONS / 100;
  if (otherVersions < 0) {
    throw new Error(
      `--versions must be at least ${
        HOT_MODELS.length * HOT_VERSIONS + FORECAST_EXECUTIONS / 100
      }`,
    );
  }
  const rand = random(42);
  const now = new Date('2026-11-20T00:00:00Z').getTime();
  const at = (n: number) => new Date(now + n * 1000).toISOString();
  const actor = 'user:default/bench';
  const pick = <T>(items: T[]) => items[Math.floor(rand() * items.length)];

  return knex.transaction(async tx => {
    const sink = new Sink(tx);

    const datasetKeys: { ref: string; version: string }[] = [];
    for (let d = 0; d < 200; d++) {
      for (let v = 0; v < 20; v++) {
        const ref = `dataset:default/ds-${d}`;
        datasetKeys.push({ ref, version: `v${v}` });
        await sink.add('kubeai_dataset_versions', {
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

    let runCounter = 0;
    const addRun = async (
      modelRef: string,
      phase: string,
      parent?: { id: string; children?: number },
    ) => {
      const id = runId(++runCounter);
      await sink.add('kubeai_runs', {
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
        params: '{"lr":0.001,"epochs":10}',
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
        await sink.add('kubeai_run_inputs', {
          run_id: id,
          dataset_ref: input.ref,
          dataset_version: input.version,
        });
      }
      if (rand() < 0.1) {
        await sink.add('kubeai_run_inputs', {
          run_id: id,
          dataset_ref: `dataset:default/ds-${Math.floor(rand() * 200)}`,
          dataset_version: null,
        });
      }
      return id;
    };

    const addVersion = (
      modelRef: string,
      version: number,
      run: string | null,
    ) =>
      sink.add('kubeai_model_versions', {
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
        params: '{"lr":0.001}',
        tags: '[]',
        state: 'live',
        run_id: run,
        created_by: actor,
        created_at: at(version),
        updated_at: at(version),
      });

    // the hot models: 1,000 versions from 1,000 runs, and 19,000 runs without outputs, each
    for (const hot of HOT_MODELS) {
      for (let v = 1; v <= HOT_VERSIONS; v++) {
        await addVersion(hot, v, await addRun(hot, 'Succeeded'));
      }
      for (let i = 0; i < HOT_RUNS - HOT_VERSIONS; i++) {
        await addRun(hot, i % 3 === 0 ? 'Stopped' : 'Failed');
      }
    }
    const hotRuns = runCounter;
    log(`hot models written (${hotRuns.toLocaleString('en-US')} runs)`);

    // the other models, 50 versions each (the last one takes the remainder)
    const otherModels = Math.max(
      1,
      Math.floor(otherVersions / VERSIONS_PER_OTHER_MODEL),
    );
    for (let m = 0; m < otherModels; m++) {
      const ref = `model:default/model-${m}`;
      const count =
        m < otherModels - 1
          ? VERSIONS_PER_OTHER_MODEL
          : otherVersions - VERSIONS_PER_OTHER_MODEL * (otherModels - 1);
      for (let v = 1; v <= count; v++) {
        await addVersion(
          ref,
          v,
          rand() < 0.1 ? await addRun(ref, 'Succeeded') : null,
        );
      }
      if (m % 2000 === 1999) {
        log(
          `${(m + 1).toLocaleString('en-US')} of ${otherModels.toLocaleString(
            'en-US',
          )} other models`,
        );
      }
    }

    // the forecasting model: a periodic task and its executions
    const task = await addRun(FORECAST_MODEL, 'Running', {
      id: '',
      children: FORECAST_EXECUTIONS,
    });
    let forecastVersions = 0;
    for (let e = 1; e <= FORECAST_EXECUTIONS; e++) {
      const phase =
        e % 50 === 0 ? 'Running' : e % 12 === 0 ? 'Failed' : 'Succeeded';
      const execution = await addRun(
        FORECAST_MODEL,
        e % 100 === 0 ? 'Succeeded' : phase,
        { id: task },
      );
      if (e % 100 === 0) {
        await addVersion(FORECAST_MODEL, ++forecastVersions, execution);
      }
    }
    await sink.flushAll();

    // services: 500 on each hot model, 1,000 on the others
    const addService = async (
      name: string,
      modelRef: string,
      split: { version: number; percent: number }[],
    ) => {
      const serviceRef = `inferenceservice:default/${name}`;
      await sink.add('kubeai_deployments', {
        service_ref: serviceRef,
        cluster: 'prod',
        namespace: 'serving',
        name,
        model_ref: modelRef,
        revision: 1,
        traffic: JSON.stringify(split),
        desired: '{"replicas":2}',
        observed: '{"phase":"Ready"}',
        observed_at: at(0),
        created_at: at(0),
        updated_at: at(0),
        updated_by: actor,
      });
      for (const t of split) {
        await sink.add('kubeai_deployment_traffic', {
          service_ref: serviceRef,
          model_ref: modelRef,
          version: t.version,
          percent: t.percent,
        });
      }
      await sink.add('kubeai_deployment_revisions', {
        service_ref: serviceRef,
        revision: 1,
        model_ref: modelRef,
        traffic: JSON.stringify(split),
        desired: '{"replicas":2}',
        message: null,
        created_by: actor,
        created_at: at(0),
      });
    };
    for (const [h, hot] of HOT_MODELS.entries()) {
      // the first hot model's services keep their names of the 1-hot-model benchmark
      const prefix = h === 0 ? 'hot-svc' : `hot${h}-svc`;
      for (let s = 0; s < HOT_SERVICES; s++) {
        const v = HOT_VERSIONS - (s % 100);
        await addService(
          `${prefix}-${s}`,
          hot,
          s % 5 === 0
            ? [
                { version: v, percent: 90 },
                { version: v - 1, percent: 10 },
              ]
            : [{ version: v, percent: 100 }],
        );
      }
    }
    for (let s = 0; s < Math.min(1000, otherModels); s++) {
      await addService(`svc-${s}`, `model:default/model-${s}`, [
        { version: 1, percent: 100 },
      ]);
    }
    await sink.flushAll();

    return {
      models: HOT_MODELS.length + 1 + otherModels,
      modelVersions: sink.written('kubeai_model_versions'),
      hotModels: HOT_MODELS.length,
      hotVersions: HOT_VERSIONS,
      runs: sink.written('kubeai_runs'),
      hotRuns: HOT_RUNS,
      runInputs: sink.written('kubeai_run_inputs'),
      datasetVersions: sink.written('kubeai_dataset_versions'),
      services: sink.written('kubeai_deployments'),
      hotServices: HOT_SERVICES,
      forecastExecutions: FORECAST_EXECUTIONS,
      forecastVersions,
    };
  });
}
