/*
 * Helpers shared by the sync benchmark's runs (run.ts: one backend on SQLite; replicas.ts: two
 * replicas on PostgreSQL): statistics, formatting, bounded concurrency, a process's memory, and
 * writing a report into docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const REPO = path.resolve(__dirname, '../..');
export const log = (message: string) =>
  process.stderr.write(`sync bench: ${message}\n`);
export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
export const now = () => performance.now();

export interface Stats {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  n: number;
}
export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[
      Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
    ];
  return {
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    n: sorted.length,
  };
}
export const ms = (x: number) =>
  x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`;
export const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;

export async function mapLimit<T>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

/** VmRSS and VmHWM (peak) of a process, in KiB. */
export function procStatus(pid: number): { rss: number; hwm: number } {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

export async function getJson(url: string): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url);
      return await res.json();
    } catch (error) {
      if (attempt >= 2) throw error;
    }
  }
}

/** Markdown in the repository's style (prettier 2 formats synchronously). */
export function formatMarkdown(raw: string): string {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const prettier = require('prettier');
  return prettier.format(raw, {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    ...require('@backstage/cli/config/prettier.json'),
    parser: 'markdown',
  }) as string;
}

export const REPLICAS_HEADING = '### Two replicas (issue 17)';

/**
 * Writes the "## Sync" section of docs/benchmarks.md: `main` replaces the section's text before
 * its two-replica subsection (kept), `replicas` replaces (or appends) that subsection.
 */
export function writeSyncSection(
  part: 'main' | 'replicas',
  report: string,
  file = path.join(REPO, 'docs/benchmarks.md'),
) {
  const current = fs.readFileSync(file, 'utf8');
  const start = current.indexOf('\n## Sync\n');
  if (start < 0) {
    fs.writeFileSync(file, `${current.replace(/\n*$/, '\n')}\n${report}`);
    return;
  }
  const end = current.indexOf('\n## ', start + 1);
  const section = current.slice(start + 1, end >= 0 ? end + 1 : undefined);
  const rest = end >= 0 ? current.slice(end + 1) : '';
  const sub = section.indexOf(`\n${REPLICAS_HEADING}\n`);
  const mainPart = sub >= 0 ? section.slice(0, sub + 1) : section;
  const replicasPart = sub >= 0 ? section.slice(sub + 1) : '';
  const next =
    part === 'main'
      ? `${report.replace(/\n*$/, '\n')}${
          replicasPart ? `\n${replicasPart}` : ''
        }`
      : `${mainPart.replace(/\n*$/, '\n')}\n${report.replace(/\n*$/, '\n')}`;
  fs.writeFileSync(
    file,
    `${current.slice(0, start + 1)}${next}${rest ? `\n${rest}` : ''}`,
  );
  log(`wrote the Sync section (${part}) of ${file}`);
}

/**
 * `scripts/cluster/cluster.mjs start|stop` for the control plane in KUBEAI_CLUSTER_DIR, in a plain
 * Node process: imported under Backstage's node transform its workload-table loader fails
 * (`import()` of a data: URL — "The URL must be of scheme file").
 */
export function clusterCli(command: 'start' | 'stop') {
  execFileSync(
    process.execPath,
    [path.join(REPO, 'scripts/cluster/cluster.mjs'), command],
    {
      cwd: REPO,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}
