/*
 * The load generator of bench/submit/run.ts, in its own process (as the portal's users would be):
 * sends `count` periodic-forecast training tasks to the KubeAI API with `concurrency` requests in
 * flight — one task per `POST /api/kubeai/jobs`, or with `batch` > 1 that many per
 * `POST /api/kubeai/jobs/batch` — and prints one JSON line with the wall time, the per-task
 * status counts and the request latency percentiles. Task bodies: ./tasks.mjs. Like wrk or
 * autocannon it uses plain keep-alive connections (node:http, one per request in flight): Node's
 * fetch costs about a millisecond of CPU per request more, which the single-task route paid in
 * the load generator's share of the 2 cores.
 *
 *   node bench/submit/load.mjs <baseUrl> <namespace> <count> <concurrency> [<offset>] [<batch>]
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { forecastTask } from './tasks.mjs';

const [baseUrl, namespace, countArg, concurrencyArg, offsetArg, batchArg] =
  process.argv.slice(2);
const count = Number(countArg);
const concurrency = Number(concurrencyArg);
const offset = Number(offsetArg ?? 0);
const batch = Number(batchArg ?? 1);

const requests = Math.ceil(count / batch);
const latencies = new Array(requests);
const statuses = {};
const errors = [];
let next = 0;

const count1 = (status, n = 1) => {
  statuses[status] = (statuses[status] ?? 0) + n;
};

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

/** POST of a JSON body: its status and its body as text. */
function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          // a signed-in user's token (run.ts sets it when the backend checks real tokens)
          ...(process.env.KUBEAI_BENCH_TOKEN
            ? { authorization: `Bearer ${process.env.KUBEAI_BENCH_TOKEN}` }
            : {}),
        },
      },
      response => {
        const chunks = [];
        response.on('data', chunk => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function send(r) {
  const first = r * batch;
  const size = Math.min(batch, count - first);
  const tasks = Array.from({ length: size }, (_, k) =>
    forecastTask(offset + first + k, namespace),
  );
  const single = batch === 1;
  const res = await post(
    `${baseUrl}/${single ? 'jobs' : 'jobs/batch'}`,
    JSON.stringify(single ? tasks[0] : { items: tasks }),
  );
  const text = res.body;
  if (single || (res.status !== 201 && res.status !== 207)) {
    count1(res.status, size);
    if (res.status !== 201 && errors.length < 5) {
      errors.push(`${res.status} ${text.slice(0, 300)}`);
    }
    return;
  }
  for (const item of JSON.parse(text).items) {
    count1(item.status);
    if (item.status !== 201 && errors.length < 5) {
      errors.push(`${item.status} ${item.error?.message}`);
    }
  }
}

async function worker() {
  for (;;) {
    const r = next++;
    if (r >= requests) return;
    const start = performance.now();
    try {
      await send(r);
    } catch (error) {
      count1('error', Math.min(batch, count - r * batch));
      if (errors.length < 5) errors.push(String(error));
    }
    latencies[r] = performance.now() - start;
  }
}

const start = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const wallMs = performance.now() - start;
agent.destroy(); // the kept-alive connections would hold the process open
const sorted = latencies.filter(x => x !== undefined).sort((a, b) => a - b);
const at = q =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
console.log(
  JSON.stringify({
    wallMs,
    requests,
    statuses,
    errors,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  }),
);
