/*
 * Where a computed GET /lineage of the hot model spends the backend's CPU: seeds the synthetic
 * registry (seed.ts, SQLite file or a fresh PostgreSQL database), starts the plugin over HTTP as
 * run.ts does, and records a CPU profile of the backend's process (node:inspector) while
 * client.mjs asks for the hot model's lineage after a write of the model each time. Prints the
 * functions with the most self time, grouped by file, and writes the profile for DevTools.
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/lineage/httpProfile.ts \
 *     [--versions 100000] [--iterations 60] [--postgres] [--out /tmp/lineage.cpuprofile]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RegistryStore } from '../../plugins/kubeai-backend/src/database/RegistryStore';
import { startBenchBackend } from '../lib/backend';
import { openBenchDatabase } from '../lib/db';
import { HOT_MODEL, seedRegistry } from './seed';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const VERSIONS = Number(arg('--versions') ?? 100_000);
const ITERATIONS = Number(arg('--iterations') ?? 60);
const OUT = arg('--out') ?? join(os.tmpdir(), 'kubeai-lineage.cpuprofile');
const POSTGRES = process.argv.includes('--postgres');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Self time per function (ms), the largest first; `where` shortens the file to its package. */
function selfTimes(profile: {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}) {
  const byNode = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000),
  );
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const ms = byNode.get(node.id) ?? 0;
    if (!ms) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      .replace(/^file:\/\//, '')
      .replace(/^.*\/node_modules\//, '')
      .replace(/^.*\/work\/[^/]+\//, '');
    const name = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const file = where.split('/').slice(0, 3).join('/') || functionName;
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { functions: top(byFunction, 40), files: top(byFile, 25) };
}

async function main() {
  const scratch = mkdtempSync(join(os.tmpdir(), 'kubeai-bench-httpprofile-'));
  const { knex, close } = await openBenchDatabase({
    postgres: POSTGRES,
    name: 'httpprofile',
    scratch,
  });
  try {
    // the registry's tables (migrations), as the plugin creates them
    await RegistryStore.create({ database: { getClient: async () => knex } });
    await seedRegistry(knex, { versions: VERSIONS });
    await knex.raw(POSTGRES ? 'vacuum analyze' : 'analyze');
    const { backend, port } = await startBenchBackend(knex, {});
    const api = `http://localhost:${port}/api/kubeai`;
    const url = `${api}/lineage?entityRef=${encodeURIComponent(
      HOT_MODEL,
    )}&direction=both&depth=3`;
    // version 1 serves nothing: client.mjs archives and restores it in turn
    const write = `${api}/models/default/${HOT_MODEL.split('/')[1]}/versions/1`;
    const client = (iterations: number) =>
      promisify(execFile)(
        process.execPath,
        [join(__dirname, 'client.mjs'), url, String(iterations), '0', write],
        { maxBuffer: 16 * 1024 * 1024 },
      );
    await client(10); // warm-up
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const { stdout } = await client(ITERATIONS);
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync(OUT, JSON.stringify(profile));
    const samples: number[] = JSON.parse(stdout).samples;
    samples.sort((a, b) => a - b);
    console.log(
      `${ITERATIONS} computed GETs: p50 ${samples[
        Math.floor(samples.length / 2)
      ].toFixed(1)} ms (load ${os.loadavg()[0].toFixed(1)}); profile: ${OUT}`,
    );
    const { functions, files } = selfTimes(profile as any);
    const per = (ms: number) => (ms / ITERATIONS).toFixed(2).padStart(7);
    console.log('\nself time per request (ms), by file:');
    for (const [file, ms] of files) console.log(`${per(ms)}  ${file}`);
    console.log('\nby function:');
    for (const [name, ms] of functions) console.log(`${per(ms)}  ${name}`);
    await backend.stop();
  } finally {
    await close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  error => {
    console.error(error);
    process.exit(1);
  },
);
