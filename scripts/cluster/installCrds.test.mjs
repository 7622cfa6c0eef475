// Unit tests of installCrds.mjs: which files, the hash/skip logic, and an install into a local
// HTTPS stand-in (no cluster). Run: node --test scripts/cluster/installCrds.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { haveOpenssl, startFakeApiserver } from './fakeApiserver.mjs';
import {
  CRD_COLLECTION,
  CRD_HASH_ANNOTATION,
  FALLBACK_CRDS_DIR,
  ensureCrds,
  listYaml,
  ownCrdFiles,
  prepareCrd,
  readCrds,
  resolveCrdFiles,
} from './installCrds.mjs';
import { ClusterError } from './util.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-cluster-crds-'));
const saved = { ...process.env };
before(() => {
  process.env.KUBEAI_CRDS_CACHE = path.join(work, 'no-cache');
  process.env.KUBEAI_CRDS_DIR = path.join(work, 'no-mirror');
});
after(() => {
  for (const k of ['KUBEAI_CRDS_CACHE', 'KUBEAI_CRDS_DIR']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  fs.rmSync(work, { recursive: true, force: true });
});

const crd = (name, extra = {}) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name, ...extra },
  spec: { group: 'example.com' },
});

test('prepareCrd drops status and server fields and annotates the hash of the rest', () => {
  const { crd: out, hash } = prepareCrd({
    ...crd('a.example.com', {
      creationTimestamp: null,
      resourceVersion: '7',
      annotations: { keep: 'me' },
    }),
    status: { acceptedNames: {} },
  });
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.equal(out.status, undefined);
  assert.equal(out.metadata.creationTimestamp, undefined);
  assert.equal(out.metadata.resourceVersion, undefined);
  assert.deepEqual(out.metadata.annotations, {
    keep: 'me',
    [CRD_HASH_ANNOTATION]: hash,
  });
  // the same definition (whatever its status/server fields) → the same hash; a change → another
  assert.equal(
    prepareCrd(crd('a.example.com', { annotations: { keep: 'me' } })).hash,
    hash,
  );
  assert.notEqual(prepareCrd(crd('a.example.com')).hash, hash);
});

test('prepareCrd does not modify its input', () => {
  const input = crd('b.example.com', { resourceVersion: '1' });
  const copy = structuredClone(input);
  prepareCrd(input);
  assert.deepEqual(input, copy);
});

test('listYaml: the sorted .yaml/.yml files of a directory, [] when there is none', () => {
  const dir = path.join(work, 'yaml');
  fs.mkdirSync(path.join(dir, 'sub.yaml'), { recursive: true });
  for (const f of ['b.yml', 'a.yaml', 'c.json'])
    fs.writeFileSync(path.join(dir, f), '');
  assert.deepEqual(listYaml(dir), [
    path.join(dir, 'a.yaml'),
    path.join(dir, 'b.yml'),
  ]);
  assert.deepEqual(listYaml(path.join(work, 'missing')), []);
});

test('readCrds: CustomResourceDefinitions of every document; others skipped; a parse error names the file', () => {
  const file = path.join(work, 'multi.yaml');
  fs.writeFileSync(
    file,
    [
      'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: x.example.com}',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}',
      '',
      'apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata: {name: z.example.com}',
    ].join('\n---\n'),
  );
  const origWrite = process.stderr.write;
  const lines = [];
  process.stderr.write = s => lines.push(String(s)) > 0;
  let crds;
  try {
    crds = readCrds([file]);
  } finally {
    process.stderr.write = origWrite;
  }
  assert.deepEqual(
    crds.map(c => c.obj.metadata.name),
    ['x.example.com', 'z.example.com'],
  );
  assert.match(lines.join(''), /skipping ConfigMap in multi\.yaml/);
  const bad = path.join(work, 'bad.yaml');
  fs.writeFileSync(bad, 'a: [\n');
  assert.throws(
    () => readCrds([bad]),
    e =>
      e instanceof ClusterError && e.message.startsWith(`cannot parse ${bad}`),
  );
});

test('resolveCrdFiles: without a verified cache, the minimal CRDs of scripts/cluster/crds', async () => {
  const res = await resolveCrdFiles();
  assert.equal(res.fallback, true);
  assert.equal(res.dir, FALLBACK_CRDS_DIR);
  assert.deepEqual(res.files, listYaml(FALLBACK_CRDS_DIR));
  assert.ok(res.files.length > 0);
  assert.match(res.requested, /the CRD cache .*no-cache/);
});

test("ownCrdFiles: the project's own CRDs (Workload), which no top-level pinned file stands for", () => {
  const own = ownCrdFiles();
  assert.deepEqual(
    own.map(f => path.basename(f)),
    ['kueue.x-k8s.io_workloads.yaml'],
  );
  const [workload] = readCrds(own);
  assert.equal(workload.obj.metadata.name, 'workloads.kueue.x-k8s.io');
  assert.deepEqual(
    workload.obj.spec.versions.map(v => [v.name, v.storage, v.subresources]),
    [
      ['v1beta1', false, { status: {} }],
      ['v1beta2', true, { status: {} }],
    ],
  );
  // a pinned top-level file of the same name would stand for it
  assert.deepEqual(ownCrdFiles([{ file: 'kueue.x-k8s.io_workloads.yaml' }]), [
    ...listYaml(FALLBACK_CRDS_DIR).filter(
      f => !f.endsWith('kueue.x-k8s.io_workloads.yaml'),
    ),
  ]);
});

describe(
  'ensureCrds into an HTTPS stand-in',
  { skip: !haveOpenssl && 'no openssl' },
  () => {
    let fake;
    const installed = new Map(); // name → CRD
    let rejectUpdates = false;
    before(async () => {
      fake = await startFakeApiserver(({ method, path: p, headers, body }) => {
        const url = new URL(p, 'https://x');
        const name = url.pathname.slice(CRD_COLLECTION.length + 1);
        if (method === 'GET' && url.pathname === CRD_COLLECTION) {
          const items = [...installed.values()];
          return headers.accept.includes('PartialObjectMetadataList')
            ? {
                status: 200,
                body: { items: items.map(c => ({ metadata: c.metadata })) },
              }
            : {
                status: 200,
                body: {
                  items: items.map(c => ({
                    ...c,
                    status: {
                      conditions: [{ type: 'Established', status: 'True' }],
                    },
                  })),
                },
              };
        }
        if (method === 'POST') {
          if (installed.has(body.metadata.name))
            return { status: 409, body: { message: 'exists' } };
          installed.set(body.metadata.name, {
            ...body,
            metadata: { ...body.metadata, resourceVersion: '1' },
          });
          return { status: 201, body };
        }
        if (method === 'GET' && installed.has(name))
          return { status: 200, body: installed.get(name) };
        if (method === 'PUT') {
          if (rejectUpdates)
            return { status: 422, body: { message: 'stored version dropped' } };
          installed.set(name, body);
          return { status: 200, body };
        }
        return { status: 404, body: { message: 'not found' } };
      });
    });
    after(() => fake?.close());

    const quietly = async fn => {
      const origWrite = process.stderr.write;
      const lines = [];
      process.stderr.write = s => lines.push(String(s)) > 0;
      try {
        return { result: await fn(), output: lines.join('') };
      } finally {
        process.stderr.write = origWrite;
      }
    };

    test('creates all, then skips the unchanged, updates a changed one, keeps one it cannot update', async () => {
      const state = { ...fake.state };
      const expected = readCrds(listYaml(FALLBACK_CRDS_DIR)).map(
        c => c.obj.metadata.name,
      );
      const first = await quietly(() => ensureCrds(state));
      assert.deepEqual(first.result, {
        dir: FALLBACK_CRDS_DIR,
        fallback: true,
        count: expected.length,
        created: expected.length,
        updated: 0,
        kept: 0,
        unchanged: 0,
      });
      assert.match(first.output, /installing the minimal fallback CRDs/);
      assert.deepEqual(state.crds, expected);
      assert.equal(state.crdsDir, FALLBACK_CRDS_DIR);

      fake.requests.length = 0;
      const second = await quietly(() => ensureCrds(state));
      assert.equal(second.result.unchanged, expected.length);
      assert.deepEqual(
        fake.requests.filter(r => r.method !== 'GET'),
        [],
        'nothing written when every hash matches',
      );

      const [one, two] = expected;
      installed.get(one).metadata.annotations[CRD_HASH_ANNOTATION] = 'old';
      const third = await quietly(() => ensureCrds(state));
      assert.equal(third.result.updated, 1);
      assert.equal(third.result.unchanged, expected.length - 1);

      installed.get(two).metadata.annotations[CRD_HASH_ANNOTATION] = 'old';
      rejectUpdates = true;
      const fourth = await quietly(() => ensureCrds(state));
      assert.equal(fourth.result.kept, 1);
      assert.match(
        fourth.output,
        new RegExp(
          `warning: kept the existing CRD ${two.replace(/\./g, '\\.')}`,
        ),
      );
    });
  },
);
