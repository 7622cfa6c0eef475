// Sets up the business-forecasting scenario of the example catalog on a running portal, through the
// public API (validation, permissions and routing apply): the pools and quota of
// examples/forecasting/pools.yaml as a platform admin (POST /pools), then the 12 indicator
// forecasts of examples/forecasting/indicators.yaml as periodic tasks of the team (POST
// /jobs/batch; app-config's kubeai.pools.routing sends them to the elastic flavor, production).
//   node scripts/forecasting-scenario.mjs [--url http://localhost:7007]
//        [--admin user:default/li.wei] [--user user:default/sun.li] [--dry-run]
// Running it again changes nothing (server-side apply; each task keeps its run).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import YAML from 'yaml';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.KUBEAI_BACKEND_URL ?? 'http://localhost:7007' },
    admin: { type: 'string', default: 'user:default/li.wei' },
    user: { type: 'string', default: 'user:default/sun.li' },
    'dry-run': { type: 'boolean', default: false },
  },
});
const read = file => YAML.parse(readFileSync(new URL(`../examples/forecasting/${file}`, import.meta.url), 'utf8'));

async function tokenOf(user) {
  const res = await fetch(`${args.url}/api/auth/demo/refresh?user=${encodeURIComponent(user)}`);
  if (!res.ok) throw new Error(`forecasting-scenario: no token for ${user} (${res.status}); is auth.providers.demo on?`);
  return (await res.json()).backstageIdentity.token;
}

async function post(user, path, body) {
  const res = await fetch(`${args.url}/api/kubeai${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${await tokenOf(user)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...body, ...(args['dry-run'] ? { dryRun: true } : {}) }),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`POST ${path} as ${user} → ${res.status} ${JSON.stringify(answer.error ?? answer)}`);
  return answer;
}

console.log((await post(args.admin, '/pools', read('pools.yaml'))).message);
const batch = await post(args.user, '/jobs/batch', read('indicators.yaml'));
console.log(batch.message);
if (batch.failed) process.exitCode = 1;
