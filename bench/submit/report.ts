/**
 * The Markdown report of bench/submit/run.ts (section "Submit" of docs/benchmarks.md): the table,
 * the checks, the targets, what the permission decisions and each process's CPU cost.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuCell, type CpuPerTask } from './cpu';

/** What bench/submit/load.mjs answers. */
export interface LoadReport {
  wallMs: number;
  requests: number;
  statuses: Record<string, number>;
  errors: string[];
  p50: number;
  p95: number;
  p99: number;
  /** the load generator's own CPU time */
  cpuMs: number;
}

/** One API phase: the load, what was created, the resend, the decisions and CPU per task. */
export interface ApiPhaseResult {
  label: string;
  options: { batch?: number; concurrency?: number };
  report: LoadReport;
  created: number;
  runs: number;
  sampleOk: boolean;
  again: LoadReport;
  afterRerun: number;
  runsAfterRerun: number;
  decided: { calls: number; checks: number; ms: number };
  cpu: CpuPerTask;
}

export interface SubmitResults {
  settings: {
    COUNT: number;
    BATCH: number;
    BATCH_CONCURRENCY: number;
    CONCURRENCY: number;
    KUBECTL_SAMPLE: number;
    ALLOW_ALL: boolean;
    TEAM: string;
    dbLabel: string;
    loadAtStart: string;
  };
  apiBatch: ApiPhaseResult;
  apiSingle: ApiPhaseResult;
  raw: {
    rawMs: number;
    rawCpu: CpuPerTask;
    rawCreated: number;
    rawFailed: number;
  };
  kubectl: {
    kubectlTimes: number[];
    kubectlMean: number;
    kubectlP50: number;
    kubectlCreated: number;
  };
}

export const fmt = (n: number) => n.toLocaleString('en-US');
export const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The report, as Markdown. */
export function submitReport(results: SubmitResults): string {
  const {
    settings: {
      COUNT,
      BATCH,
      BATCH_CONCURRENCY,
      CONCURRENCY,
      KUBECTL_SAMPLE,
      ALLOW_ALL,
      TEAM,
      dbLabel,
      loadAtStart,
    },
    apiBatch,
    apiSingle,
    raw: { rawMs, rawCpu, rawCreated, rawFailed },
    kubectl: { kubectlTimes, kubectlMean, kubectlP50, kubectlCreated },
  } = results;
  const rawRate = COUNT / (rawMs / 1000);
  const kubectlTotal = kubectlMean * COUNT;
  const met = (ok: boolean) => (ok ? 'met' : 'missed');
  const evaluate = (phase: ApiPhaseResult) => {
    const perTask = phase.report.wallMs / COUNT;
    const rate = COUNT / (phase.report.wallMs / 1000);
    return {
      perTask,
      rate,
      vsKubectl: kubectlMean / perTask,
      vsRaw: rate / rawRate,
      wallOk: phase.report.wallMs <= 120_000,
    };
  };
  const batchEval = evaluate(apiBatch);
  const singleEval = evaluate(apiSingle);
  const statusList = (statuses: Record<string, number>) =>
    Object.entries(statuses)
      .map(([k, v]) => `${fmt(v)} × ${k}`)
      .join(', ');
  const cpu = `${os.cpus().length} × ${os.cpus()[0]?.model?.trim() ?? 'CPU'}`;
  const apiRow = (
    name: string,
    phase: ApiPhaseResult,
    e: ReturnType<typeof evaluate>,
  ) =>
    `| ${name} | ${fmt(COUNT)} in ${fmt(
      phase.report.requests,
    )} requests | **${s(phase.report.wallMs)}** | ${e.perTask.toFixed(
      2,
    )} ms | ${e.rate.toFixed(0)} /s | ${phase.report.p50.toFixed(
      0,
    )} / ${phase.report.p95.toFixed(0)} / ${phase.report.p99.toFixed(
      0,
    )} ms | ${fmt(phase.created)} CronJobs, ${fmt(phase.runs)} runs |`;
  const decisionLine = (phase: ApiPhaseResult) => {
    const { calls, checks: asked, ms } = phase.decided;
    const perCall = calls ? ms / calls : 0;
    const share = phase.report.p50 ? (perCall / phase.report.p50) * 100 : 0;
    return `${fmt(calls)} decisions of ${fmt(asked)} checks, ${perCall.toFixed(
      2,
    )} ms per request on average (${share.toFixed(
      1,
    )} % of the p50 request latency), ${(ms / COUNT).toFixed(3)} ms per task`;
  };
  const checks = (phase: ApiPhaseResult) =>
    `answers ${statusList(phase.report.statuses)}${
      phase.report.errors.length
        ? ` (first errors: ${phase.report.errors.join('; ')})`
        : ''
    }; last task read back (schedule, queue label): ${
      phase.sampleOk ? 'ok' : 'FAILED'
    }; the first 200 tasks sent again: ${statusList(
      phase.again.statuses,
    )}, afterwards ${fmt(phase.afterRerun)} CronJobs and ${fmt(
      phase.runsAfterRerun,
    )} runs`;
  const targetLine = (e: ReturnType<typeof evaluate>, wallMs: number) =>
    `${fmt(COUNT)} tasks ≤ 120 s — **${met(e.wallOk)}** (${s(
      wallMs,
    )}); ≥ 20× faster than kubectl per task — **${met(
      e.vsKubectl >= 20,
    )}** (${e.vsKubectl.toFixed(0)}×: ${e.perTask.toFixed(
      2,
    )} ms vs ${kubectlMean.toFixed(0)} ms); ≥ 0.7× the raw client — **${met(
      e.vsRaw >= 0.7,
    )}** (${e.vsRaw.toFixed(2)}×: ${e.rate.toFixed(0)} /s vs ${rawRate.toFixed(
      0,
    )} /s)`;
  const lines = [
    '## Submit',
    '',
    `Measured ${new Date()
      .toISOString()
      .slice(0, 10)} by \`bench/submit/run.ts\` on ${cpu}, Node ${
      process.version
    }, the local control plane (kube-apiserver v1.20.2 + etcd 3.4 on the same machine), registry on ${dbLabel}; load average at the start ${loadAtStart}, at the end ${os
      .loadavg()[0]
      .toFixed(1)} (other work may share the machine).`,
    '',
    `Workload: ${fmt(
      COUNT,
    )} periodic-forecast training tasks (\`bench/submit/tasks.mjs\`: one Prophet forecast per store × metric, a daily \`CronJob\` in the \`biz-forecasting\` Kueue queue, 500m CPU / 1 GiB, model \`model:default/forecast-gmv\`) — the daily volume of the business-forecasting users.`,
    '',
    `- **API** — the plugin in \`startTestBackend\` (this process; ${
      ALLOW_ALL
        ? 'the permission backend with the allow-all policy, no impersonation (`--allow-all`)'
        : `the configuration a company runs: the permission backend with the \`ownership\` policy — the namespaces are owned by \`${TEAM}\` (\`kubeai.io/owner\` label), the caller is a member, so every namespace write is a conditional decision applied to the namespace — and Kubernetes impersonation on (every apply sent as \`backstage:user:…\` with the team's group, decided by the cluster's RBAC: a Role for batch objects bound to the team's group in the namespace)`
    }; mock auth and catalog), the requests from a separate process (\`bench/submit/load.mjs\`, Node \`fetch\`). Per task: OpenAPI validation, the CronJob's zod schema (cron), catalog check of the model, build, server-side apply (\`batch/v1beta1\` found by discovery), run recorded in the registry; per request: one decision step (every task's namespace check, deduplicated, and the run check).`,
    `  - \`POST /jobs/batch\`, ${BATCH} tasks per request, ${BATCH_CONCURRENCY} requests in flight × 16 applies each = ${
      BATCH_CONCURRENCY * 16
    } objects in flight; runs recorded in one transaction per request.`,
    `  - \`POST /jobs\`, one task per request, ${CONCURRENCY} requests in flight.`,
    `- **raw client-node** — \`KubernetesObjectApi.create\` of \`@kubernetes/client-node\` 1.4.0, ${CONCURRENCY} in flight, of the identical manifests (built by the same builder), nothing else; it runs first, on the freshest apiserver state.`,
    `- **kubectl** — \`kubectl apply -f <task>.yaml\` one task after the other (${execFileSync(
      'kubectl',
      ['version', '--client'],
      { encoding: 'utf8' },
    )
      .split('\n')[0]
      .trim()}), ${KUBECTL_SAMPLE} tasks spread over the set, after one warm-up call; extrapolated to ${fmt(
      COUNT,
    )}.`,
    '',
    '| path | tasks | wall time | per task | throughput | request latency p50 / p95 / p99 | result |',
    '|---|---|---|---|---|---|---|',
    apiRow(
      `**API**, \`POST /jobs/batch\` (${BATCH} per request)`,
      apiBatch,
      batchEval,
    ),
    apiRow('**API**, `POST /jobs` (one per request)', apiSingle, singleEval),
    `| raw client-node creates | ${fmt(COUNT)} | ${s(rawMs)} | ${(
      rawMs / COUNT
    ).toFixed(2)} ms | ${rawRate.toFixed(0)} /s | — | ${fmt(
      rawCreated,
    )} CronJobs${rawFailed ? `, ${rawFailed} failed` : ''} |`,
    `| kubectl apply, sequential | ${KUBECTL_SAMPLE} (sample) | ${s(
      kubectlTimes.reduce((a, b) => a + b, 0),
    )} → ${s(kubectlTotal)} extrapolated | ${kubectlMean.toFixed(
      0,
    )} ms (p50 ${kubectlP50.toFixed(0)} ms) | ${(1000 / kubectlMean).toFixed(
      1,
    )} /s | — | ${kubectlCreated} CronJobs |`,
    '',
    `Checks: batch route — ${checks(apiBatch)}. Single route — ${checks(
      apiSingle,
    )}. (Idempotent: server-side apply, runs keyed by cluster and uid.)`,
    '',
    `Targets, \`POST /jobs/batch\`: ${targetLine(
      batchEval,
      apiBatch.report.wallMs,
    )}.${
      ALLOW_ALL
        ? ''
        : ` With ownership and impersonation: ${fmt(
            COUNT,
          )} tasks ≤ 30 s — **${met(apiBatch.report.wallMs <= 30_000)}** (${s(
            apiBatch.report.wallMs,
          )}).`
    }`,
    '',
    `Targets, \`POST /jobs\` one task per request: ${targetLine(
      singleEval,
      apiSingle.report.wallMs,
    )}.${
      ALLOW_ALL
        ? ''
        : ` With ownership and impersonation: ≥ 1.0× the raw client — **${met(
            singleEval.vsRaw >= 1.0,
          )}** (${singleEval.vsRaw.toFixed(2)}×).`
    }`,
    '',
    `What the permission decisions cost (the routes' decision step, timed in the backend): batch route — ${decisionLine(
      apiBatch,
    )}; single route — ${decisionLine(apiSingle)}.`,
    '',
    `CPU time per task (ms, every process on the machine that takes part): batch route — ${cpuCell(
      apiBatch.cpu,
      'backend',
    )}; single route — ${cpuCell(
      apiSingle.cpu,
      'backend',
    )}; raw client — ${cpuCell(rawCpu, 'client-node')}.`,
    '',
    'Order: warm-up (300 tasks per route), raw client, batch route, single route, kubectl; every phase in its own namespace, emptied (deletecollection) before the next. Where the time goes: everything shares the 2 cores — kube-apiserver and etcd, the backend (one Node process) and the load generator. Per object, the backend pays server-side apply (the apiserver computes managed fields) and the registry write, over kept-alive connections (the gateway keeps one keep-alive agent per cluster; the raw client, as client-node 1.4 does by default, opens a TLS connection per request — `--keep-alive` gives it the same agent); per request, HTTP parsing, OpenAPI validation and a permission request. Batching amortizes the per-request part. kubectl pays a process start, kubeconfig and discovery-cache load and a client-side apply (GET, then create) per task.',
    '',
    'Run it: `node --require @backstage/cli/config/nodeTransform.cjs bench/submit/run.ts` (from the repository root, with `yarn cluster:start` running; `--count N`, `--concurrency N`, `--batch N`, `--kubectl-sample N`, `--postgres` after `eval "$(bash scripts/postgres.sh start)"`, `--profile <file>`, `--allow-all` for the earlier configuration, `--no-write`).',
    '',
  ];
  return lines.join('\n');
}

/** Replaces (or appends) the "Submit" section of docs/benchmarks.md, leaving the others as they are. */
export function writeSection(report: string) {
  const docPath = path.resolve(__dirname, '../../docs/benchmarks.md');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const prettier = require('prettier');
  const formatted = prettier
    .format(report, {
      ...require('@backstage/cli/config/prettier.json'),
      parser: 'markdown',
    })
    .trimEnd();
  let doc = fs.existsSync(docPath)
    ? fs.readFileSync(docPath, 'utf8')
    : '# Benchmarks\n';
  const start = doc.indexOf('\n## Submit\n');
  if (start >= 0) {
    const rest = doc.slice(start + 1);
    const next = rest.slice(1).search(/\n## /);
    doc = `${doc.slice(0, start + 1)}${formatted}\n${
      next >= 0 ? rest.slice(next + 1) : ''
    }`;
  } else {
    doc = `${doc.trimEnd()}\n\n${formatted}\n`;
  }
  fs.writeFileSync(docPath, doc);
  console.error(`wrote ${docPath}`);
}
