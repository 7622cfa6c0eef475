// Seeds the model registry with the demo content of examples/registry/demo.yaml, through the public
// API (so validation, permissions and catalog checks apply), as the guest user or, with --user, as
// a demo user (auth.providers.demo; e.g. a platform admin where the ownership policy decides).
//   node scripts/seed-registry.mjs [--url http://localhost:7007] [--file examples/registry/demo.yaml]
//                                  [--user user:default/li.wei]
// Waits for the backend and for the catalog to know the example entities; does nothing for a model
// that already has versions, so running it twice changes nothing.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import YAML from 'yaml';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.KUBEAI_BACKEND_URL ?? 'http://localhost:7007' },
    file: { type: 'string', default: new URL('../examples/registry/demo.yaml', import.meta.url).pathname },
    timeout: { type: 'string', default: '180' },
    user: { type: 'string' },
  },
});
const deadline = Date.now() + Number(args.timeout) * 1000;
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function until(what, check) {
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`seed-registry: gave up waiting for ${what}`);
    await sleep(1000);
  }
}

await until('the backend', async () => (await fetch(`${args.url}/.backstage/health/v1/readiness`)).ok);
const token = await until(args.user ? `a token of ${args.user}` : 'a guest token', async () => {
  const res = await fetch(
    args.user
      ? `${args.url}/api/auth/demo/refresh?user=${encodeURIComponent(args.user)}`
      : `${args.url}/api/auth/guest/refresh`,
  );
  return res.ok && (await res.json()).backstageIdentity.token;
});

async function api(method, path, body) {
  const res = await fetch(`${args.url}/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
const refPath = ref => {
  const [, namespace, name] = ref.match(/^[^:]+:([^/]+)\/(.+)$/);
  return `${namespace}/${name}`;
};
const kindPath = ref => ref.split(':')[0].toLowerCase();

/** ROC and PR points of a binormal-like classifier with the given AUC (tpr = fpr^a, AUC = 1/(1+a)). */
function curves(auc, positiveRate = 0.1) {
  const a = (1 - auc) / auc;
  const roc = [];
  const pr = [];
  for (let i = 0; i <= 20; i++) {
    const fpr = (i / 20) ** 2;
    const tpr = fpr === 0 ? 0 : fpr ** a;
    roc.push({ fpr: round(fpr), tpr: round(tpr), threshold: round(1 - i / 20) });
    if (tpr > 0) {
      const precision = (positiveRate * tpr) / (positiveRate * tpr + (1 - positiveRate) * fpr);
      pr.push({ recall: round(tpr), precision: round(precision), threshold: round(1 - i / 20) });
    }
  }
  return { roc, pr };
}
const round = x => Math.round(x * 10000) / 10000;
const digest = (...parts) => {
  let h = 0x811c9dc5;
  const s = parts.join('/');
  let hex = '';
  for (let round = 0; round < 8; round++) {
    for (const c of s + round) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    hex += h.toString(16).padStart(8, '0');
  }
  return `sha256:${hex}`;
};

const demo = YAML.parse(readFileSync(args.file, 'utf8'));
const day = 24 * 3600 * 1000;
let seeded = 0;

for (const model of demo.models) {
  await until(`${model.model} in the catalog`, async () =>
    (await fetch(`${args.url}/api/catalog/entities/by-name/${kindPath(model.model)}/${refPath(model.model)}`, {
      headers: { Authorization: `Bearer ${token}` },
    })).ok,
  );
  const existing = await api('GET', `/kubeai/models/${refPath(model.model)}/versions`);
  if (existing.items.length > 0) continue;

  const count = model.versions.length;
  for (const [index, spec] of model.versions.entries()) {
    const n = index + 1;
    const finishedAt = new Date(Date.now() - (count - n) * 7 * day);
    const datasetVersion = `v${n}`;
    await api('POST', `/kubeai/datasets/${refPath(model.dataset)}/versions`, {
      version: datasetVersion,
      uri: `oss://kubeai-datasets/${refPath(model.dataset)}/${datasetVersion}`,
      digest: digest(model.dataset, datasetVersion),
      size: 1_000_000_000 * (5 + n),
    });
    const run = await api('POST', '/kubeai/runs', {
      kind: 'training',
      cluster: model.run.cluster,
      namespace: model.run.namespace,
      name: `${model.run.name}-${n}`,
      modelRef: model.model,
      phase: 'Succeeded',
      startedAt: new Date(finishedAt.getTime() - 3 * 3600 * 1000).toISOString(),
      finishedAt: finishedAt.toISOString(),
      inputs: [{ datasetRef: model.dataset, version: datasetVersion }],
      params: model.params,
    });
    const { auc, state, aliases, ...metrics } = spec;
    await api('POST', `/kubeai/models/${refPath(model.model)}/versions`, {
      artifact: {
        uri: `${model.artifact.uri}/${n}`,
        format: model.artifact.format,
        digest: digest(model.model, String(n)),
        size: 50_000_000 + n * 1_000_000,
      },
      framework: model.framework,
      metrics: auc === undefined ? metrics : { auc, ...metrics },
      ...(auc === undefined ? {} : { curves: curves(auc) }),
      params: model.params,
      aliases,
      runId: run.id,
    });
    if (state) {
      await api('PATCH', `/kubeai/models/${refPath(model.model)}/versions/${n}`, { state });
    }
  }
  if (model.deployment) {
    const d = model.deployment;
    await until(`${d.service} in the catalog`, async () =>
      (await fetch(`${args.url}/api/catalog/entities/by-name/${kindPath(d.service)}/${refPath(d.service)}`, {
        headers: { Authorization: `Bearer ${token}` },
      })).ok,
    );
    await api('POST', '/kubeai/deployments', {
      serviceRef: d.service,
      cluster: d.cluster,
      namespace: d.namespace,
      name: d.name,
      modelRef: model.model,
      traffic: d.traffic,
      desired: d.desired,
    });
  }
  seeded += 1;
}
console.log(`seed-registry: ${seeded} model(s) seeded, ${demo.models.length - seeded} already present`);
