/*
 * Lineage benchmark: p50 / p95 of GET /api/kubeai/lineage for the hot model of a synthetic registry
 * (see seed.ts), over HTTP against the real plugin (startTestBackend, on a SQLite file or a fresh
 * PostgreSQL database) — computed from scratch (a backend that holds no answers; a registry write
 * of the hot model before every request, so the ETag must differ every time), after such a write
 * on a backend holding the answer (patched: the write changes one version's state), and reused (no
 * write in between) — and, in the same run, on the same database, the node-per-query walk of
 * nodeWalk.ts.
 * All must return the same graph; the script checks that before it measures.
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/lineage/run.ts \
 *     [--iterations 200] [--rounds 3] [--versions 100000] [--postgres]
 *
 * --postgres: after `eval "$(bash scripts/postgres.sh start)"` (POSTGRES_HOST / PORT / USER /
 * PASSWORD); the run creates a database of its own and drops it at the end.
 *
 * Prints a Markdown report and writes it into docs/benchmarks.md (section "Lineage", subsection
 * of this database and scale).
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { LineageGraph } from '@kubeai/plugin-kubeai-common';
import knexFactory, { Knex } from 'knex';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { RegistryStore } from '../../plugins/kubeai-backend/src/database/RegistryStore';
import kubeaiPlugin from '../../plugins/kubeai-backend/src';
import { NodeWalk } from './nodeWalk';
import { FORECAST_MODEL, HOT_MODEL, seedRegistry } from './seed';

const argIterations = process.argv.indexOf('--iterations');
const ITERATIONS =
  argIterations > 0 ? Number(process.argv[argIterations + 1]) : 200;
const argRounds = process.argv.indexOf('--rounds');
/** HTTP measurements are repeated in this many client processes and their samples pooled. */
const ROUNDS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 3;
const argVersions = process.argv.indexOf('--versions');
/** Model versions in the synthetic registry (seed.ts). */
const VERSIONS =
  argVersions > 0 ? Number(process.argv[argVersions + 1]) : 100_000;
const POSTGRES = process.argv.includes('--postgres');
const BASELINE_ITERATIONS = Math.max(5, Math.round(ITERATIONS / 20));
const BASELINE_WARMUP = 2;
const WARMUP = 10;
const execFileAsync = promisify(execFile);

interface Stats {
  p50: number;
  p95: number;
  mean: number;
  n: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return {
    p50: at(0.5),
    p95: at(0.95),
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    n: sorted.length,
  };
}

async function measure(
  n: number,
  fn: () => Promise<unknown>,
  warmup = WARMUP,
): Promise<Stats> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return stats(samples);
}

function countQueries(knex: Knex) {
  let count = 0;
  knex.on('query', () => {
    count++;
  });
  return {
    reset: () => {
      count = 0;
    },
    get: () => count,
  };
}

const canonical = (g: LineageGraph) => JSON.stringify(g);

/** The benchmark's database: a SQLite file, or a PostgreSQL database created for this run. */
async function openDatabase(): Promise<{
  knex: Knex;
  label: string;
  close: () => Promise<void>;
}> {
  if (!POSTGRES) {
    const dir = mkdtempSync(join(os.tmpdir(), 'kubeai-bench-'));
    const filename = join(dir, 'registry.sqlite');
    console.error(`database: ${filename}`);
    const knex = knexFactory({
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
    });
    return {
      knex,
      label: 'SQLite (better-sqlite3, file database)',
      close: async () => {
        await knex.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const env = process.env;
  if (!env.POSTGRES_HOST) {
    throw new Error(
      '--postgres: run `eval "$(bash scripts/postgres.sh start)"` first (POSTGRES_HOST / PORT / USER / PASSWORD)',
    );
  }
  const connection = {
    host: env.POSTGRES_HOST,
    port: Number(env.POSTGRES_PORT ?? 5432),
    user: env.POSTGRES_USER,
    password: env.POSTGRES_PASSWORD,
  };
  const database = `kubeai_bench_lineage_${process.pid}_${Date.now()}`;
  const admin = knexFactory({
    client: 'pg',
    connection: { ...connection, database: 'postgres' },
  });
  await admin.raw(`create database ${database}`);
  console.error(`database: PostgreSQL ${database}`);
  const knex = knexFactory({
    client: 'pg',
    connection: { ...connection, database },
    pool: { min: 0, max: 10 },
  });
  const version = (await knex.raw('show server_version')).rows[0]
    .server_version;
  return {
    knex,
    label: `PostgreSQL ${version.split(' ')[0]} (local, same machine)`,
    close: async () => {
      await knex.destroy();
      await admin.raw(`drop database if exists ${database}`);
      await admin.destroy();
    },
  };
}

async function main() {
  const loadAtStart = os
    .loadavg()
    .map(x => x.toFixed(1))
    .join(' / ');
  const { knex, label: databaseLabel, close } = await openDatabase();
  try {
    console.error(`seeding ${VERSIONS.toLocaleString('en-US')} versions …`);
    const seedStart = performance.now();
    const store = await RegistryStore.create({
      database: { getClient: async () => knex },
    });
    const counts = await seedRegistry(knex, {
      versions: VERSIONS,
      log: message =>
        console.error(
          `  ${((performance.now() - seedStart) / 1000).toFixed(
            0,
          )} s: ${message}`,
        ),
    });
    // PostgreSQL: as autovacuum leaves a table in steady state (statistics, and the visibility map
    // without which the walk's index-only scans fetch every heap row of a fresh bulk load)
    await knex.raw(POSTGRES ? 'vacuum analyze' : 'analyze');
    const seedSeconds = (performance.now() - seedStart) / 1000;
    console.error(`seeded in ${seedSeconds.toFixed(1)} s`, counts);
    const loadAtMeasureStart = os
      .loadavg()
      .map(x => x.toFixed(1))
      .join(' / ');

    /** The plugin over HTTP, with the default lineage cache. */
    const backend = await startTestBackend({
      features: [
        kubeaiPlugin,
        mockServices.database.factory({ knex }),
        catalogServiceMock.factory({ entities: [] }),
      ],
    });
    /** The same plugin holding no answers: every GET computes its answer from scratch. */
    const scratchBackend = await startTestBackend({
      features: [
        kubeaiPlugin,
        mockServices.database.factory({ knex }),
        catalogServiceMock.factory({ entities: [] }),
        mockServices.rootConfig.factory({
          data: { kubeai: { registry: { lineageCacheMegabytes: 0 } } },
        }),
      ],
    });
    const apiOf = (server: typeof backend.server) => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      return `http://localhost:${port}/api/kubeai`;
    };
    const api = apiOf(backend.server);
    const base = `${api}/lineage`;
    const scratchBase = `${apiOf(scratchBackend.server)}/lineage`;
    /**
     * A write of the hot model (version 1, which no service serves, archived and restored in
     * turn): what "computed" follows.
     */
    const hotWrite = `${api}/models/default/${
      HOT_MODEL.split('/')[1]
    }/versions/1`;
    const queries = countQueries(knex);
    /**
     * GET timings from client processes of their own (bench/lineage/client.mjs), `ROUNDS` of them
     * one after the other: one run's p50 varies by a few milliseconds on a shared machine, so the
     * samples are pooled and each round's p50 is reported too.
     */
    const measureHttp = async (
      url: string,
      writeBefore?: string,
    ): Promise<Stats & { roundP50s: number[] }> => {
      const pooled: number[] = [];
      const roundP50s: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const args = [
          join(__dirname, 'client.mjs'),
          url,
          String(ITERATIONS),
          String(WARMUP),
          ...(writeBefore ? [writeBefore] : []),
        ];
        const { stdout } = await execFileAsync(process.execPath, args, {
          maxBuffer: 16 * 1024 * 1024,
        });
        const out: { samples: number[]; etags: number } = JSON.parse(stdout);
        // computed: a new ETag for every answer (else a cached one was reused); reused: one ETag
        const expected = writeBefore ? out.samples.length : 1;
        if (out.etags !== expected) {
          throw new Error(
            `${url}: ${out.etags} distinct ETags in ${out.samples.length} answers, expected ${expected}`,
          );
        }
        const samples = out.samples;
        roundP50s.push(stats(samples).p50);
        pooled.push(...samples);
      }
      return { ...stats(pooled), roundP50s };
    };
    /** GET with one retry: undici may reuse a keep-alive socket the server just closed. */
    const get = async (url: string) => {
      try {
        return await (await fetch(url)).text();
      } catch {
        return (await fetch(url)).text();
      }
    };

    const scenarios = [
      {
        name: 'hot model, all 1,000 versions, both directions, depth 3',
        query: `entityRef=${encodeURIComponent(
          HOT_MODEL,
        )}&direction=both&depth=3`,
        start: { type: 'model' as const, ref: HOT_MODEL },
        version: undefined,
      },
      {
        name: 'hot model, newest version, both directions, depth 3',
        query: `entityRef=${encodeURIComponent(
          HOT_MODEL,
        )}&version=1000&direction=both&depth=3`,
        start: { type: 'model' as const, ref: HOT_MODEL, version: 1000 },
        version: 1000,
      },
      {
        name: `forecast model, ${counts.forecastExecutions.toLocaleString(
          'en-US',
        )} executions of its periodic task (summarised), both directions, depth 3`,
        query: `entityRef=${encodeURIComponent(
          FORECAST_MODEL,
        )}&direction=both&depth=3`,
        start: { type: 'model' as const, ref: FORECAST_MODEL },
        version: undefined,
        // the node-per-query walk knows no executions: no baseline
        baseline: false,
      },
    ];

    const results = [];
    for (const scenario of scenarios) {
      const options = { direction: 'both' as const, depth: 3 };
      // same graph from the set-based walk, the HTTP route and the node-per-query walk
      queries.reset();
      const setBased = (await store.lineageWithObserved(
        scenario.start,
        options,
      ))!;
      const setQueries = queries.get();
      const http = await get(`${base}?${scenario.query}`);
      const withBaseline = scenario.baseline !== false;
      const walker = new NodeWalk(knex);
      const walked = withBaseline
        ? await walker.lineage(HOT_MODEL, scenario.version, 'both', 3)
        : setBased;
      if (canonical(setBased) !== canonical(walked)) {
        throw new Error(
          `${scenario.name}: the node-per-query walk returned a different graph`,
        );
      }
      if (http !== canonical(setBased)) {
        throw new Error(`${scenario.name}: HTTP returned a different graph`);
      }
      console.error(`measuring: ${scenario.name} …`);
      const url = `${base}?${scenario.query}`;
      // the forecast model's answer does not show the hot model: a write of the forecast model
      const write =
        scenario.start.ref === HOT_MODEL
          ? hotWrite
          : `${api}/models/default/forecast/versions/1`;
      const computed = await measureHttp(
        `${scratchBase}?${scenario.query}`,
        write,
      );
      const patched = await measureHttp(url, write);
      const reused = await measureHttp(url);
      // an even number of state writes: the start's state again, patched and computed alike
      if (
        (await get(`${base}?${scenario.query}`)) !== http ||
        (await get(`${scratchBase}?${scenario.query}`)) !== http
      ) {
        throw new Error(`${scenario.name}: the answer changed while measuring`);
      }
      const [heldTag, scratchTag] = await Promise.all(
        [base, scratchBase].map(async b =>
          (await fetch(`${b}?${scenario.query}`)).headers.get('etag'),
        ),
      );
      if (!heldTag || heldTag !== scratchTag) {
        throw new Error(
          `${scenario.name}: ETag ${heldTag} of the held answer, ${scratchTag} computed`,
        );
      }
      const inProcess = await measure(ITERATIONS, () =>
        store.lineageWithObserved(scenario.start, options),
      );
      // the same, serialized as the route sends it: what JSON adds to the walk
      const inProcessJson = await measure(ITERATIONS, async () =>
        Buffer.from(
          JSON.stringify(
            await store.lineageWithObserved(scenario.start, options),
          ),
        ),
      );
      const baselineWalker = new NodeWalk(knex);
      const baseline = withBaseline
        ? await measure(
            BASELINE_ITERATIONS,
            () =>
              baselineWalker.lineage(HOT_MODEL, scenario.version, 'both', 3),
            BASELINE_WARMUP,
          )
        : undefined;
      const gzipStart = performance.now();
      const gz = gzipSync(http);
      const gzipMs = performance.now() - gzipStart;
      results.push({
        ...scenario,
        nodes: setBased.nodes.length,
        edges: setBased.edges.length,
        bytes: Buffer.byteLength(http),
        gzipBytes: gz.length,
        gzipMs,
        setQueries,
        walkQueries: walker.queries,
        computed,
        patched,
        reused,
        inProcess,
        inProcessJson,
        baseline,
      });
    }
    await backend.stop();
    await scratchBackend.stop();

    const ms = (x: number) => `${x.toFixed(1)} ms`;
    const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
    const dbName = POSTGRES ? 'PostgreSQL' : 'SQLite';
    const heading = `### ${dbName}, ${counts.modelVersions.toLocaleString(
      'en-US',
    )} model versions`;
    const lines = [
      heading,
      '',
      `Measured ${new Date()
        .toISOString()
        .slice(0, 10)} by \`bench/lineage/run.ts\` on ${os.cpus().length} × ${
        os.cpus()[0]?.model?.trim() ?? 'CPU'
      }, Node ${
        process.version
      }, ${databaseLabel}; load average (1 / 5 / 15 min) at the start ${loadAtStart}, when the measurements started ${loadAtMeasureStart}, at the end ${os
        .loadavg()
        .map(x => x.toFixed(1))
        .join(' / ')} (other work shared the machine).`,
      '',
      `Synthetic registry: ${counts.models.toLocaleString(
        'en-US',
      )} models, ${counts.modelVersions.toLocaleString(
        'en-US',
      )} model versions, ${counts.runs.toLocaleString(
        'en-US',
      )} runs (${counts.runInputs.toLocaleString(
        'en-US',
      )} run inputs), ${counts.datasetVersions.toLocaleString(
        'en-US',
      )} dataset versions, ${counts.services.toLocaleString(
        'en-US',
      )} inference services. ${
        counts.hotModels
      } hot models have ${counts.hotVersions.toLocaleString(
        'en-US',
      )} versions (each from a run), ${counts.hotRuns.toLocaleString(
        'en-US',
      )} runs and ${
        counts.hotServices
      } services each; the one measured is \`${HOT_MODEL}\`. Seeded in ${seedSeconds.toFixed(
        1,
      )} s.`,
      '',
      '| start | nodes / edges | body (gzip) | HTTP computed from scratch p50 / p95 | HTTP after a state change (patched) p50 / p95 | HTTP reused p50 / p95 | set-based in-process p50 / p95 | node-per-query p50 / p95 | queries set / walk | walk ÷ computed (p50) | walk ÷ in-process (p50) |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...results.map(
        r =>
          `| ${r.name} | ${r.nodes.toLocaleString(
            'en-US',
          )} / ${r.edges.toLocaleString('en-US')} | ${(r.bytes / 1024).toFixed(
            0,
          )} KiB (${(r.gzipBytes / 1024).toFixed(0)} KiB, ${ms(
            r.gzipMs,
          )}) | ${ms(r.computed.p50)} / ${ms(r.computed.p95)} | ${ms(
            r.patched.p50,
          )} / ${ms(r.patched.p95)} | ${ms(r.reused.p50)} / ${ms(
            r.reused.p95,
          )} | ${ms(r.inProcess.p50)} / ${ms(r.inProcess.p95)} | ${
            r.baseline ? `${ms(r.baseline.p50)} / ${ms(r.baseline.p95)}` : '—'
          } | ${r.setQueries} / ${
            r.baseline ? r.walkQueries.toLocaleString('en-US') : '—'
          } | ${r.baseline ? ratio(r.baseline.p50, r.computed.p50) : '—'} | ${
            r.baseline ? ratio(r.baseline.p50, r.inProcess.p50) : '—'
          } |`,
      ),
      '',
      `Samples: ${ROUNDS} × ${ITERATIONS} HTTP requests per start and backend (a client process per round, samples pooled), ${ITERATIONS} in-process walks (and as many with JSON) and ${BASELINE_ITERATIONS} baseline walks, after ${WARMUP} warm-up runs each. HTTP p50 of each round, hot model: computed ${results[0].computed.roundP50s
        .map(ms)
        .join(' / ')}, patched ${results[0].patched.roundP50s
        .map(ms)
        .join(' / ')}, reused ${results[0].reused.roundP50s
        .map(ms)
        .join(' / ')}.`,
      '',
    ];
    const hot = results[0] as (typeof results)[0] & {
      baseline: Stats;
    };
    const forecast = results[2];
    const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
    lines.push(
      `Targets for the hot model (all versions): p50 ≤ 20 ms on ${dbName} — **${verdict(
        hot.computed.p50 <= 20,
      )} when computed from scratch** (${ms(hot.computed.p50)}), **${verdict(
        hot.patched.p50 <= 20,
      )} after a state change** (patched, ${ms(hot.patched.p50)}), **${verdict(
        hot.reused.p50 <= 20,
      )} when reused** (${ms(
        hot.reused.p50,
      )}); ≥ 10× faster than the node-per-query walk — **${verdict(
        hot.baseline.p50 / hot.computed.p50 >= 10,
      )}** even when computed (${ratio(
        hot.baseline.p50,
        hot.computed.p50,
      )}; ${ratio(hot.baseline.p50, hot.inProcess.p50)} in-process).`,
      '',
      `Child runs: the forecast model's periodic task has ${counts.forecastExecutions.toLocaleString(
        'en-US',
      )} executions (child runs), ${
        counts.forecastVersions
      } of which produced a version. The answer keeps those ${
        counts.forecastVersions
      } executions as nodes (they are on a path) and summarises the others as one node per task (\`run:<task>/executions\`, \`executions\`: count per phase and \`list: /runs?parent=<task>\`, the API call that pages through them; see \`LineageExecutionsSummary\` in the OpenAPI spec): ${forecast.nodes.toLocaleString(
        'en-US',
      )} nodes instead of ${(
        forecast.nodes +
        counts.forecastExecutions -
        counts.forecastVersions -
        1
      ).toLocaleString(
        'en-US',
      )}. Target p50 ≤ 20 ms for a model with 20,000 child runs — **${verdict(
        forecast.computed.p50 <= 20,
      )} when computed from scratch** (${ms(forecast.computed.p50)}; ${ms(
        forecast.inProcess.p50,
      )} in-process), **${verdict(
        forecast.patched.p50 <= 20,
      )} after a state change** (patched, ${ms(
        forecast.patched.p50,
      )}), **${verdict(forecast.reused.p50 <= 20)} when reused** (${ms(
        forecast.reused.p50,
      )}).`,
      '',
      `Where the time goes (hot model, p50): the set-based walk with the observed state takes ${ms(
        hot.inProcess.p50,
      )} in-process for ${
        hot.setQueries
      } queries returning ${hot.nodes.toLocaleString(
        'en-US',
      )} nodes and ${hot.edges.toLocaleString(
        'en-US',
      )} edges; serializing its ${(hot.bytes / 1024).toFixed(
        0,
      )} KiB of JSON adds ${ms(
        hot.inProcessJson.p50 - hot.inProcess.p50,
      )} (in-process, walk + \`JSON.stringify\` + Buffer: ${ms(
        hot.inProcessJson.p50,
      )}); the other ${ms(
        hot.computed.p50 - hot.inProcessJson.p50,
      )} of a computed answer over HTTP are the answer's validity (the versions of its nodes' scopes, read from \`kubeai_change_scopes\`: \`src/service/lineageCache.ts\`), the HTTP stack (auth, request validation, Express) and the transfer to the client process, which shares the two cores. After a write that changed only a version's state the held answer is patched (\`patchHeld\`: the change log names the node, which is read again) and serialized; a reused answer skips the walk and the serialization; a client that has the answer (If-None-Match) gets 304 without a body. The node-per-query walk needs ${hot.walkQueries.toLocaleString(
        'en-US',
      )} queries for the same graph. A single version's lineage is a small graph and answers in about a millisecond either way.`,
      '',
    );
    const report = lines.join('\n');
    console.log(report);
    const intro = [
      '## Lineage',
      '',
      'Measured by `bench/lineage/run.ts` (see `bench/lineage/README.md`), one subsection per database and scale; every ratio is between figures of the same run.',
      '',
      '- **GET /lineage over HTTP**: the plugin in `startTestBackend` (auth, OpenAPI validation, JSON), timed until the last byte of the body arrived, by a client process of its own on the same machine (`client.mjs`: node:http, one keep-alive connection, like wrk or autocannon); no compression (a production backend gzips when the client asks: gzip time listed separately).',
      "  - **computed from scratch**: a second backend on the same database that holds no answers (`lineageCacheMegabytes: 0`); before every GET (untimed) a registry write of the start's model (PATCH of the state of version 1, which no service serves: archived, then live again, in turn — a change the answer shows): the set-based walk, the observed state, the answer's scope versions and the JSON are computed — checked: every answer has an ETag of its own. What every answer after a write that adds or moves nodes or edges costs (a new version, run inputs, traffic), and every first answer.",
      '  - **after a state change (patched)**: the backend holding the answer, the same write before every GET: the write changed only the details of one node (`touchNodes`, `src/database/changes.ts`), so the held answer is patched — the change log names the node, it is read again and replaced, the answer serialized (`patchHeld`, `src/service/lineageCache.ts`) — checked: an ETag of its own every time, and the same answer and ETag as the backend computing it from scratch. Before 2026-12-04 19:00 UTC the figures called *computed* were this backend computing from scratch after this write.',
      "  - **reused**: the same backend, no write between requests: the answer held under its scopes' versions is sent again after they are checked (`src/service/lineageCache.ts`) — checked: one ETag.",
      '- **set-based, in-process**: `RegistryStore.lineageWithObserved()` — a few `… IN (…)` queries per BFS level, plus the observed state — without HTTP and JSON.',
      '- **node-per-query walk (baseline)**: `bench/lineage/nodeWalk.ts` — one query per node of the answer (its details and neighbours, as the catalog graph fetches one entity per node), in-process without HTTP, so the baseline is favoured. It returns the identical graph (checked).',
      '',
      'Run it: `node --require @backstage/cli/config/nodeTransform.cjs bench/lineage/run.ts` (from the repository root; `--versions N` the scale, `--postgres` a fresh PostgreSQL database after `eval "$(bash scripts/postgres.sh start)"`, `--iterations N` the sample count, `--rounds N` the number of HTTP client rounds).',
      '',
    ].join('\n');

    const docPath = resolve(__dirname, '../../docs/benchmarks.md');
    let doc = '';
    try {
      doc = readFileSync(docPath, 'utf8');
    } catch {
      doc = '# Benchmarks\n\n';
    }
    // the section: the intro, then the subsections of other runs (kept) and this one (replaced)
    const startIndex = doc.indexOf('## Lineage');
    let before = `${doc.trimEnd()}\n\n`;
    let after = '';
    const kept: string[] = [];
    if (startIndex >= 0) {
      before = doc.slice(0, startIndex);
      const rest = doc.slice(startIndex + 1);
      const next = rest.search(/\n## /);
      const section = next >= 0 ? rest.slice(0, next) : rest;
      after = next >= 0 ? rest.slice(next) : '';
      for (const part of section.split(/\n(?=### )/).slice(1)) {
        if (!part.startsWith(`${heading}\n`)) kept.push(part.trimEnd());
      }
    }
    const subsections = [...kept, report.trimEnd()].sort();
    doc = `${before}${intro}\n${subsections.join('\n\n')}\n${after}`;
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const prettier = require('prettier');
    writeFileSync(
      docPath,
      prettier.format(`${doc.trimEnd()}\n`, {
        ...require('@backstage/cli/config/prettier.json'),
        parser: 'markdown',
      }),
    );
    console.error(`wrote ${docPath}`);
  } finally {
    await close();
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
