/*
 * Cost benchmark: seeds a year of the forecasting scenario (seed.ts: 4 teams × 12 indicators,
 * 20,000 runs a day, 7.3 million runs; the runs that finished more than 3 hours ago priced and summed into
 * kubeai_cost_daily as the fold would have, the rest folded here by the real CostStore.fold),
 * then, against the real plugin (startTestBackend, the local cluster for the namespaces' owners),
 * measures the API's cost report of one team for the year — `GET /api/kubeai/cost?team=…&groupBy=
 * month` and `groupBy=model`, from a client process of its own (../retention/client.mjs) — and, in
 * the same run, the same report as a naive `SUM … GROUP BY` over the raw runs table (in-process,
 * no HTTP: the naive side is favoured). Checks that both give the same totals; prints the storage
 * per run.
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/cost/run.ts \
 *     [--count 7300000] [--postgres] [--no-write] [--seconds 20] [--naive-runs 5]
 */
import { ConfigReader } from '@backstage/config';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RegistryStore } from '../../plugins/kubeai-backend/src/database/RegistryStore';
import { readCostConfig } from '../../plugins/kubeai-backend/src/cost/costConfig';
import { CostStore } from '../../plugins/kubeai-backend/src/cost/CostStore';
import { localKubernetesConfig } from '../../plugins/kubeai-backend/src/service/__testUtils__/clusterRoutes';
import { startBenchBackend } from '../lib/backend';
import { clientLatencies } from '../lib/client';
import { runBench } from '../lib/db';
import { machine, numberArg as arg, stats } from '../lib/report';
import { RUNS_PER_DAY, seedCost, teamOf, TEAMS } from './seed';
import { storage, writeSection } from './report';

const COUNT = arg('--count', 7_300_000);
const SECONDS = arg('--seconds', 20);
const NAIVE_RUNS = arg('--naive-runs', 5);
const POSTGRES = process.argv.includes('--postgres');
const WRITE = !process.argv.includes('--no-write');
const WARMUP = 10;
const TEAM_NS = 'team-a';

/** The prices of app-config.yaml. */
const COST = {
  currency: 'EUR',
  flavors: {
    regular: { cpuHour: 0.04, memoryGiBHour: 0.005, gpuHour: 0 },
    elastic: { cpuHour: 0.012, memoryGiBHour: 0.0015, gpuHour: 0 },
    gpu: { cpuHour: 0.04, memoryGiBHour: 0.005, gpuHour: 2.2 },
  },
  default: { cpuHour: 0.04, memoryGiBHour: 0.005, gpuHour: 2.5 },
};

runBench(
  { name: 'cost', postgres: POSTGRES },
  async ({ db, scratch, loadAtStart }) => {
    const { knex } = db;
    await RegistryStore.create({ database: { getClient: async () => knex } });
    const now = new Date();
    const config = readCostConfig(new ConfigReader({ kubeai: { cost: COST } }));
    const days = Math.max(1, Math.ceil(COUNT / RUNS_PER_DAY));
    console.error(
      `seeding ${days} days (${(days * RUNS_PER_DAY).toLocaleString(
        'en-US',
      )} runs) into ${db.label} …`,
    );
    const seedStart = performance.now();
    const counts = await seedCost(knex, COUNT, now, config, {
      progress: m => console.error(m),
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;
    // the real fold prices what the last hour finished (one transaction per 300 runs)
    const cost = new CostStore({
      db: knex,
      config,
      teamsOf: async refs => refs.map(ref => teamOf(ref.split('/')[1])),
    });
    const foldStart = performance.now();
    const folded = await cost.fold();
    const foldSeconds = (performance.now() - foldStart) / 1000;
    console.error(
      `seeded in ${seedSeconds.toFixed(1)} s; folded ${
        folded.folded
      } runs in ${foldSeconds.toFixed(1)} s`,
    );
    await knex.raw(POSTGRES ? 'vacuum analyze' : 'analyze');
    const sizes = await storage(knex);

    const from = counts.first.slice(0, 7);
    const to = now.toISOString().slice(0, 7);
    const { backend, port } = await startBenchBackend(
      knex,
      {
        cost: COST,
        tenancy: {
          namespaces: TEAMS.map(ns => ({
            cluster: 'local',
            namespace: ns,
            owner: teamOf(ns),
          })),
        },
      },
      { kubernetes: localKubernetesConfig() },
    );
    const url = (groupBy: string) =>
      `http://localhost:${port}/api/kubeai/cost?team=${encodeURIComponent(
        teamOf(TEAM_NS),
      )}&from=${from}&to=${to}&groupBy=${groupBy}`;
    const client = async (target: string) =>
      stats(
        await clientLatencies({
          url: target,
          stopFile: path.join(scratch, 'never'),
          maxSeconds: SECONDS,
          warmup: WARMUP,
        }),
      );
    const answers = {
      month: JSON.parse(await (await fetch(url('month'))).text()),
      model: JSON.parse(await (await fetch(url('model'))).text()),
    };
    console.error(`GET /cost groupBy=month for ${SECONDS} s …`);
    const apiMonth = await client(url('month'));
    console.error(`GET /cost groupBy=model for ${SECONDS} s …`);
    const apiModel = await client(url('model'));
    await backend.stop();

    // the naive report: every run of the team's namespace in the year, summed per month / model
    const naive = (groupBy: 'month' | 'model') => {
      const key =
        groupBy === 'month'
          ? knex.raw('substr(finished_at, 1, 7)')
          : knex.raw('model_ref');
      return knex('kubeai_runs')
        .where('namespace', TEAM_NS)
        .where('finished_at', '>=', `${from}-01`)
        .where('finished_at', '<', `${to}-32`)
        .select({ key })
        .sum({ cost: 'cost' })
        .count({ runs: '*' })
        .groupByRaw(key.toQuery());
    };
    const naiveTimes = { month: [] as number[], model: [] as number[] };
    const naiveRows: Record<string, any[]> = {};
    for (let i = 0; i < NAIVE_RUNS; i++) {
      for (const g of ['month', 'model'] as const) {
        const t = performance.now();
        naiveRows[g] = await naive(g);
        naiveTimes[g].push(performance.now() - t);
      }
      console.error(
        `naive pass ${i + 1}/${NAIVE_RUNS}: month ${naiveTimes.month[i].toFixed(
          0,
        )} ms, model ${naiveTimes.model[i].toFixed(0)} ms`,
      );
    }
    // same totals: the API's folded part (cost − live) equals the naive sum of priced runs
    const apiFolded = (a: any) =>
      a.items.reduce((s: number, i: any) => s + i.cost - i.live, 0);
    const naiveTotal = naiveRows.month.reduce(
      (s, r) => s + Number(r.cost ?? 0),
      0,
    );
    const checks = {
      sameTotalMonth:
        Math.abs(apiFolded(answers.month) - naiveTotal) <
        1e-6 * Math.max(1, naiveTotal),
      sameTotalModel:
        Math.abs(apiFolded(answers.model) - naiveTotal) <
        1e-6 * Math.max(1, naiveTotal),
      twelveModels: answers.model.items.length === 12,
      months:
        answers.month.items.length ===
        naiveRows.month.filter(r => r.key).length,
    };
    const report = {
      ...machine(db, now, loadAtStart),
      counts,
      seedSeconds,
      folded,
      foldSeconds,
      from,
      to,
      total: answers.month.total,
      live: answers.month.items.reduce((s: number, i: any) => s + i.live, 0),
      currency: answers.month.currency,
      apiMonth,
      apiModel,
      naiveMonth: stats(naiveTimes.month),
      naiveModel: stats(naiveTimes.model),
      sizes,
      checks,
    };
    return { markdown: writeSection(report, WRITE), checks };
  },
);
