// Unit tests of apiserverBuild.mjs without apt or a build: the cache lookup, the overrides, the
// version probes. Run: node --test scripts/cluster/apiserverBuild.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, test } from 'node:test';
import {
  KNOWN_SOURCE_VERSION,
  binaryVersion,
  findCachedApiserver,
  obtainApiserver,
  obtainEtcd,
  sourceVersionOf,
} from './apiserverBuild.mjs';
import { ClusterError } from './util.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-cluster-build-'));
const saved = { ...process.env };
afterEach(() => {
  for (const k of ['XDG_CACHE_HOME', 'KUBEAI_KUBE_APISERVER', 'KUBEAI_ETCD']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** An executable shell script printing `version` for --version (exit `code`). */
function fakeBinary(file, version, code = 0) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\necho '${version}'\nexit ${code}\n`, {
    mode: 0o755,
  });
  return file;
}

test('sourceVersionOf: the .dsc Version without epoch, else the file name', () => {
  assert.equal(
    sourceVersionOf(
      'kubernetes_1.20.5+really1.20.2-1.1+deb12u1.dsc',
      'Format: 3.0 (quilt)\nSource: kubernetes\nVersion: 1:1.20.5+really1.20.2-1.1+deb12u1\n',
    ),
    '1.20.5+really1.20.2-1.1+deb12u1',
  );
  assert.equal(sourceVersionOf('kubernetes_1.2-3.dsc', 'no version'), '1.2-3');
});

test('binaryVersion: the first line of --version, null when it fails', () => {
  const ok = fakeBinary(path.join(work, 'bin', 'ok'), 'Kubernetes v1.20.2');
  const bad = fakeBinary(path.join(work, 'bin', 'bad'), 'broken', 2);
  assert.equal(binaryVersion(ok), 'Kubernetes v1.20.2');
  assert.equal(binaryVersion(bad), null);
  assert.equal(binaryVersion(path.join(work, 'bin', 'missing')), null);
});

test('findCachedApiserver: the known version first, else the newest executable', () => {
  const cache = path.join(work, 'cache1');
  process.env.XDG_CACHE_HOME = cache;
  assert.equal(findCachedApiserver(), null);
  const root = path.join(cache, 'kubeai');
  const older = fakeBinary(
    path.join(root, 'kube-apiserver-1.0', 'kube-apiserver'),
    'v1.0',
  );
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(older, past, past);
  fakeBinary(path.join(root, 'kube-apiserver-2.0', 'kube-apiserver'), 'v2.0');
  fs.mkdirSync(path.join(root, 'kube-apiserver-3.0')); // no binary
  assert.deepEqual(findCachedApiserver(), {
    bin: path.join(root, 'kube-apiserver-2.0', 'kube-apiserver'),
    sourceVersion: '2.0',
  });
  const known = fakeBinary(
    path.join(root, `kube-apiserver-${KNOWN_SOURCE_VERSION}`, 'kube-apiserver'),
    'v1.20.2',
  );
  fs.utimesSync(known, past, past);
  assert.deepEqual(findCachedApiserver(), {
    bin: known,
    sourceVersion: KNOWN_SOURCE_VERSION,
  });
});

test('obtainApiserver: a cached binary that runs is used as it is', async () => {
  process.env.XDG_CACHE_HOME = path.join(work, 'cache2');
  const bin = fakeBinary(
    path.join(work, 'cache2', 'kubeai', 'kube-apiserver-9.9', 'kube-apiserver'),
    'Kubernetes v9.9',
  );
  assert.deepEqual(await obtainApiserver(), {
    bin,
    sourceVersion: '9.9',
    version: 'Kubernetes v9.9',
  });
});

test('KUBEAI_KUBE_APISERVER: used when it runs, else one clear error', async () => {
  const bin = fakeBinary(
    path.join(work, 'o', 'kube-apiserver'),
    'Kubernetes v1',
  );
  process.env.KUBEAI_KUBE_APISERVER = bin;
  assert.deepEqual(await obtainApiserver(), {
    bin,
    sourceVersion: null,
    version: 'Kubernetes v1',
  });
  process.env.KUBEAI_KUBE_APISERVER = path.join(work, 'does-not-exist');
  await assert.rejects(
    obtainApiserver(),
    e =>
      e instanceof ClusterError &&
      /KUBEAI_KUBE_APISERVER=.*does-not-exist is not an executable file/.test(
        e.message,
      ),
  );
  process.env.KUBEAI_KUBE_APISERVER = fakeBinary(
    path.join(work, 'o', 'broken'),
    'x',
    1,
  );
  await assert.rejects(obtainApiserver(), /does not run \(--version failed\)/);
});

test('KUBEAI_ETCD: used when executable, else one clear error', async () => {
  const bin = fakeBinary(path.join(work, 'o', 'etcd'), 'etcd Version: 3.4.23');
  process.env.KUBEAI_ETCD = bin;
  assert.deepEqual(await obtainEtcd(), {
    bin,
    version: 'etcd Version: 3.4.23',
  });
  process.env.KUBEAI_ETCD = path.join(work, 'no-etcd');
  await assert.rejects(
    obtainEtcd(),
    e =>
      e instanceof ClusterError &&
      /KUBEAI_ETCD=.*no-etcd is not an executable file/.test(e.message),
  );
});
