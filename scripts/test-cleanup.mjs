#!/usr/bin/env node
// What the tests leave on the shared local control plane, found and removed.
//
//   node scripts/test-cleanup.mjs purge NS…
//       deletes every object in the namespaces (all namespaced kinds the apiserver serves, custom
//       resources included, finalizers cleared), then the namespaces themselves.
//   node scripts/test-cleanup.mjs snapshot FILE
//       records every object of the cluster (before a test run).
//   node scripts/test-cleanup.mjs temp DIR
//       lists what the suites left in DIR, the temporary directory (TMPDIR) they ran with, removes
//       it, and exits 1 when there was anything (Backstage's mock directories, for one, are never
//       removed by themselves when CI is set).
//   node scripts/test-cleanup.mjs check [--baseline FILE] [--purge]
//       lists the namespaces named like the tests' (kubeai-<suite>-<6 hex>) and, with a baseline,
//       every object created since the snapshot; exits 1 when there is any. --purge then removes
//       the test-named namespaces (anything else may be a user's, so it is only reported).
//
// The local control plane runs no controllers: no namespace controller empties and removes a
// deleted namespace (it stays Terminating with everything inside, which the portal's informers
// still see), no garbage collector removes an `orphan` finalizer, and nothing lifts a PVC's
// `kubernetes.io/pvc-protection`. `purge` does their work: delete the namespace (no new objects
// from then on), delete every object in it with its finalizers cleared, then finalize the
// namespace (PUT …/finalize with no finalizers), which removes it.
//
// Connection: the admin token of <KUBEAI_CLUSTER_DIR or <repo>/.kubeai/cluster>/state.json, else
// KUBEAI_CLUSTER_URL / KUBEAI_CLUSTER_TOKEN / KUBEAI_CLUSTER_CA_FILE.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Namespaces of the test suites: `kubeai-<suite>-<randomBytes(3) as hex>`. */
export const TEST_NAMESPACE = /^kubeai-[a-z0-9]+-[0-9a-f]{6}$/;

/** Kinds the cluster writes by itself, never counted as leftovers. */
const IGNORED = new Set(['events', 'leases']);

/**
 * Objects of an ignored kind that are the portal's after all: the informer leader's Leases
 * (`kubeai-informers-<installation>-<cluster>`, src/informers/LeaderLease.ts), which a test that
 * stops its backend must leave behind deleted.
 */
const PORTAL_OBJECT = /^kubeai-/;

export function connection() {
  const dir = process.env.KUBEAI_CLUSTER_DIR
    ? path.resolve(process.env.KUBEAI_CLUSTER_DIR)
    : path.join(root, '.kubeai/cluster');
  const stateFile = path.join(dir, 'state.json');
  if (fs.existsSync(stateFile)) {
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    const caFile = state.caFile ?? path.join(dir, 'certs', 'apiserver.crt');
    return {
      server: state.server,
      token: state.tokens?.admin ?? state.adminToken,
      ca: fs.existsSync(caFile) ? fs.readFileSync(caFile) : undefined,
    };
  }
  if (process.env.KUBEAI_CLUSTER_URL && process.env.KUBEAI_CLUSTER_TOKEN) {
    const caFile = process.env.KUBEAI_CLUSTER_CA_FILE;
    return {
      server: process.env.KUBEAI_CLUSTER_URL,
      token: process.env.KUBEAI_CLUSTER_TOKEN,
      ca: caFile && fs.existsSync(caFile) ? fs.readFileSync(caFile) : undefined,
    };
  }
  throw new Error(
    `No local control plane: ${stateFile} does not exist and KUBEAI_CLUSTER_URL is not set`,
  );
}

export function createClient(conn = connection()) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8 });
  function request(method, urlPath, body, contentType = 'application/json') {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        new URL(urlPath, conn.server),
        {
          method,
          agent,
          headers: {
            Accept: 'application/json',
            Authorization: `Bearer ${conn.token}`,
            ...(payload
              ? {
                  'Content-Type': contentType,
                  'Content-Length': Buffer.byteLength(payload),
                }
              : {}),
          },
          ...(conn.ca ? { ca: conn.ca } : { rejectUnauthorized: false }),
          timeout: 30_000,
        },
        res => {
          const chunks = [];
          res.on('data', c => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // plain text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`timeout ${method} ${urlPath}`)),
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }
  async function must(method, urlPath, body, contentType) {
    const res = await request(method, urlPath, body, contentType);
    if (res.status < 200 || res.status > 299) {
      throw new Error(
        `${method} ${urlPath}: HTTP ${res.status} ${JSON.stringify(
          res.body,
        ).slice(0, 300)}`,
      );
    }
    return res.body;
  }
  return { request, must, close: () => agent.destroy() };
}

/**
 * Every listable and deletable resource the apiserver serves (all versions of every group: the
 * 1.20 apiserver serves CronJob only in batch/v1beta1, not in the preferred batch/v1).
 */
export async function resourceTypes(client) {
  const types = new Map();
  const add = (base, group, resources) => {
    for (const r of resources ?? []) {
      if (r.name.includes('/')) continue; // subresources
      if (!r.verbs?.includes('list') || !r.verbs?.includes('delete')) continue;
      const key = `${group}/${r.name}`;
      if (!types.has(key))
        types.set(key, {
          base,
          group,
          name: r.name,
          kind: r.kind,
          namespaced: r.namespaced,
        });
    }
  };
  add('/api/v1', '', (await client.must('GET', '/api/v1')).resources);
  const { groups } = await client.must('GET', '/apis');
  for (const group of groups) {
    const versions = [
      group.preferredVersion,
      ...group.versions.filter(
        v => v.groupVersion !== group.preferredVersion?.groupVersion,
      ),
    ].filter(Boolean);
    for (const version of versions) {
      const res = await client.request('GET', `/apis/${version.groupVersion}`);
      if (res.status === 200)
        add(`/apis/${version.groupVersion}`, group.name, res.body.resources);
    }
  }
  return [...types.values()];
}

const objectPath = (type, namespace, name) =>
  `${type.base}${namespace ? `/namespaces/${namespace}` : ''}/${
    type.name
  }/${encodeURIComponent(name)}`;

/** Deletes one object at once: finalizers cleared first (no controller would ever clear them). */
async function removeObject(client, type, namespace, object) {
  const at = objectPath(type, namespace, object.metadata.name);
  if (object.metadata.finalizers?.length) {
    await client.request(
      'PATCH',
      at,
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
  }
  const res = await client.request(
    'DELETE',
    `${at}?gracePeriodSeconds=0&propagationPolicy=Background`,
    {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      propagationPolicy: 'Background',
    },
  );
  if (res.status !== 404 && (res.status < 200 || res.status > 299)) {
    throw new Error(
      `DELETE ${at}: HTTP ${res.status} ${JSON.stringify(res.body).slice(
        0,
        300,
      )}`,
    );
  }
}

async function objectsIn(client, types, namespace) {
  const found = [];
  for (const type of types.filter(t => t.namespaced)) {
    const res = await client.request(
      'GET',
      `${type.base}/namespaces/${namespace}/${type.name}`,
    );
    if (res.status !== 200) continue;
    for (const object of res.body.items ?? []) found.push({ type, object });
  }
  return found;
}

/**
 * Deletes every object in the namespaces, then the namespaces, as the namespace controller would;
 * resolves once they are gone. Namespaces that do not exist are skipped.
 */
export async function purgeNamespaces(names, client = createClient()) {
  const types = await resourceTypes(client);
  for (const namespace of names) {
    const nsPath = `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
    const current = await client.request('GET', nsPath);
    if (current.status === 404) continue;
    // Terminating from here on: the apiserver refuses new objects in it.
    await client.request('DELETE', nsPath);
    for (let round = 0; ; round++) {
      const left = await objectsIn(client, types, namespace);
      if (left.length === 0) break;
      if (round === 5) {
        throw new Error(
          `namespace ${namespace} still holds ${left
            .map(l => `${l.type.kind} ${l.object.metadata.name}`)
            .join(', ')}`,
        );
      }
      for (const { type, object } of left)
        await removeObject(client, type, namespace, object);
    }
    const ns = await client.request('GET', nsPath);
    if (ns.status === 200) {
      await client.must('PUT', `${nsPath}/finalize`, {
        ...ns.body,
        spec: { ...ns.body.spec, finalizers: [] },
      });
    }
    for (let i = 0; ; i++) {
      if ((await client.request('GET', nsPath)).status === 404) break;
      if (i === 50)
        throw new Error(
          `namespace ${namespace} is not gone after finalizing it`,
        );
      await new Promise(r => setTimeout(r, 100));
    }
  }
}

/** Every object of the cluster as `<group>/<resource> <namespace>/<name>` lines (sorted). */
export async function snapshot(client = createClient()) {
  const keys = [];
  for (const type of await resourceTypes(client)) {
    const ignored = IGNORED.has(type.name);
    if (ignored && type.name !== 'leases') continue;
    const res = await client.request('GET', `${type.base}/${type.name}`);
    if (res.status !== 200) continue;
    for (const o of res.body.items ?? []) {
      if (ignored && !PORTAL_OBJECT.test(o.metadata.name)) continue;
      keys.push(
        `${type.group || 'core'}/${type.name} ${o.metadata.namespace ?? ''}/${
          o.metadata.name
        }`,
      );
    }
  }
  return keys.sort();
}

/**
 * The tests' leftovers: namespaces named like theirs, and (with a baseline snapshot) every object
 * created since. With `purge`, removes them.
 */
export async function check(
  { baseline, purge = false } = {},
  client = createClient(),
) {
  const now = await snapshot(client);
  const namespaces = now
    .filter(k => k.startsWith('core/namespaces /'))
    .map(k => k.slice('core/namespaces /'.length));
  const testNamespaces = namespaces.filter(n => TEST_NAMESPACE.test(n));
  const before = new Set(baseline ?? []);
  const created = baseline ? now.filter(k => !before.has(k)) : [];
  const createdNamespaces = created
    .filter(k => k.startsWith('core/namespaces /'))
    .map(k => k.slice('core/namespaces /'.length));
  const purgedNamespaces = [
    ...new Set([...testNamespaces, ...createdNamespaces]),
  ];
  // objects in namespaces that existed before (team-a, default, …)
  const strays = created.filter(k => {
    if (k.startsWith('core/namespaces /')) return false;
    const namespace = k.split(' ')[1].split('/')[0];
    return !purgedNamespaces.includes(namespace);
  });
  // Only the tests' own namespaces are removed: anything else new may be the user's (a portal running
  // beside the tests on the same control plane), so it is reported, never deleted.
  if (purge) await purgeNamespaces(testNamespaces, client);
  return { namespaces: purgedNamespaces, objects: strays };
}

/** The entries the suites left in `dir` (their TMPDIR), removed. */
export function leftInTemporaryDirectory(dir) {
  const left = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  for (const name of left) {
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
  return left;
}

async function main(argv) {
  const [command, ...args] = argv;
  if (command === 'temp' && args[0]) {
    const left = leftInTemporaryDirectory(args[0]);
    if (left.length === 0) {
      console.log('kubeai test-cleanup: the tests left no temporary files');
      return 0;
    }
    console.error(
      `kubeai test-cleanup: the tests left ${left.length} temporary file(s) or directories (now removed):`,
    );
    for (const name of left) console.error(`  ${path.join(args[0], name)}`);
    return 1;
  }
  const client = createClient();
  try {
    if (command === 'purge') {
      await purgeNamespaces(args, client);
      return 0;
    }
    if (command === 'snapshot' && args[0]) {
      fs.writeFileSync(
        args[0],
        `${JSON.stringify(await snapshot(client), null, 1)}\n`,
      );
      return 0;
    }
    if (command === 'check') {
      const at = args.indexOf('--baseline');
      const baseline =
        at >= 0 ? JSON.parse(fs.readFileSync(args[at + 1], 'utf8')) : undefined;
      const purge = args.includes('--purge');
      const left = await check({ baseline, purge }, client);
      if (left.namespaces.length === 0 && left.objects.length === 0) {
        console.log(
          'kubeai test-cleanup: the tests left nothing on the local control plane',
        );
        return 0;
      }
      console.error(
        `kubeai test-cleanup: the tests left ${
          left.namespaces.length
        } namespace(s) and ${
          left.objects.length
        } other object(s) on the local control plane${
          purge ? ' (test namespaces now removed; anything else is kept)' : ''
        }:`,
      );
      for (const n of left.namespaces) console.error(`  namespace ${n}`);
      for (const o of left.objects) console.error(`  ${o}`);
      return 1;
    }
    console.error(
      'usage: node scripts/test-cleanup.mjs purge NS… | snapshot FILE | check [--baseline FILE] [--purge] | temp DIR',
    );
    return 2;
  } finally {
    client.close();
  }
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  main(process.argv.slice(2)).then(
    code => process.exit(code),
    error => {
      console.error(`kubeai test-cleanup: ${error.message}`);
      process.exit(1);
    },
  );
}
