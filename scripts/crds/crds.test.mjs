// The CRD fetcher's promises, on small fake files in temp folders and a local 127.0.0.1 server (never the
// internet): a cache is filled from a mirror or by download, every file's SHA-256 is checked before it lands,
// nothing with a wrong checksum is cached, and "nothing available" ends in one line saying what to do.
// Run: node --test scripts/crds/crds.test.mjs
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CrdsError,
  checkCache,
  fetchCrds,
  isTopLevel,
  loadSources,
  sourceUrl,
} from './crds.mjs';

const script = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'crds.mjs',
);
const work = fs.mkdtempSync(path.join(tmpdir(), 'kubeai-crds-test-'));
const sha256 = data => crypto.createHash('sha256').update(data).digest('hex');

// Three small fake "CRDs" (top level and newest/), pinned in a sources file like the real one.
const contents = {
  'example.com_widgets.yaml':
    'kind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n',
  'example.com_gadgets.yaml':
    'kind: CustomResourceDefinition\nmetadata: {name: gadgets.example.com}\n',
  'newest/example.com_widgets.yaml':
    'kind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n# v2\n',
};
const sourcesFile = path.join(work, 'sources.json');
fs.writeFileSync(
  sourcesFile,
  JSON.stringify({
    files: Object.entries(contents).map(([file, text]) => ({
      file,
      repo: 'example/crds',
      tag: file.startsWith('newest/') ? 'v2.0.0' : 'v1.0.0',
      commit: 'a'.repeat(40),
      path: `config/crd/${path.basename(file)}`,
      sha256: sha256(text),
    })),
  }),
);
const entries = loadSources(sourcesFile);

let dirCount = 0;
/** A fresh folder under the test's temp dir, optionally filled with files. */
function folder(files = {}) {
  const dir = path.join(work, `d${++dirCount}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}
const read = (dir, file) => fs.readFileSync(path.join(dir, file), 'utf8');
/** All files below dir (relative), temp files included. */
const listAll = dir =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true })
        .filter(f => fs.statSync(path.join(dir, f)).isFile())
        .sort()
    : [];

/** One byte changed. */
const tamper = text =>
  `${text.slice(0, 5)}${text[5] === 'X' ? 'Y' : 'X'}${text.slice(6)}`;

// A local server: GET /<repo>/<tag>/<path> serves `served[url]`, /moved/… redirects to the real path.
const served = new Map();
let server;
let urlBase;
before(async () => {
  server = http.createServer((req, res) => {
    if (req.url.startsWith('/moved/')) {
      res.writeHead(302, { location: req.url.slice('/moved'.length) });
      res.end();
      return;
    }
    const body = served.get(req.url);
    if (body === undefined) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(body);
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  urlBase = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  server.close();
  fs.rmSync(work, { recursive: true, force: true });
});
const serveAll = (override = {}) => {
  served.clear();
  for (const entry of entries) {
    served.set(
      new URL(sourceUrl(entry, urlBase)).pathname,
      override[entry.file] ?? contents[entry.file],
    );
  }
};
/** A port nothing listens on. */
async function closedPort() {
  const s = http.createServer();
  await new Promise(resolve => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise(resolve => s.close(resolve));
  return port;
}

test('the real pinned list covers both sets and has a checksum for every file', () => {
  const real = loadSources();
  const files = real.map(e => e.file);
  assert.ok(files.includes('kubeflow.org_mpijobs.yaml'));
  assert.ok(files.includes('newest/kueue.x-k8s.io_workloads.yaml'));
  assert.equal(real.filter(isTopLevel).length, 21);
  assert.equal(real.length, 35);
  assert.equal(
    sourceUrl(real.find(e => e.file === 'newest/argoproj.io_workflows.yaml')),
    'https://raw.githubusercontent.com/argoproj/argo-workflows/v4.1.2/manifests/base/crds/full/argoproj.io_workflows.yaml',
  );
  const empty = folder();
  assert.equal(checkCache({ cache: empty, entries: real }).missing.length, 35);
});

test('a malformed pinned list is refused', () => {
  const bad = path.join(work, 'bad-sources.json');
  fs.writeFileSync(
    bad,
    JSON.stringify({ files: [{ ...entries[0], sha256: 'abc' }] }),
  );
  assert.throws(() => loadSources(bad), /"sha256" must be 64 hex digits/);
  fs.writeFileSync(
    bad,
    JSON.stringify({ files: [{ ...entries[0], file: '../x.yaml' }] }),
  );
  assert.throws(() => loadSources(bad), /"file" must be/);
});

test('fills an empty cache from a mirror, then keeps what is there', async () => {
  const mirror = folder(contents);
  const cache = path.join(work, 'cache-from-mirror');
  const first = await fetchCrds({ entries, cache, mirror, offline: true });
  assert.deepEqual(first.copied.sort(), Object.keys(contents).sort());
  for (const file of Object.keys(contents))
    assert.equal(read(cache, file), contents[file]);
  assert.deepEqual(listAll(cache), Object.keys(contents).sort());
  assert.equal(checkCache({ cache, entries }).ok.length, 3);

  const again = await fetchCrds({
    entries,
    cache,
    mirror: null,
    offline: true,
  });
  assert.deepEqual(again.kept.sort(), Object.keys(contents).sort());
  assert.deepEqual(again.copied, []);
});

test('a mirror file with one byte changed is refused with the checksum error and not cached', async () => {
  const file = 'newest/example.com_widgets.yaml';
  const mirror = folder({ ...contents, [file]: tamper(contents[file]) });
  const cache = path.join(work, 'cache-tampered-mirror');
  const entry = entries.find(e => e.file === file);
  await assert.rejects(
    fetchCrds({
      entries,
      cache,
      mirror,
      urlBase: `http://127.0.0.1:${await closedPort()}`,
    }),
    e => {
      assert.ok(e instanceof CrdsError);
      assert.equal(e.details.length, 1);
      const [detail] = e.details;
      assert.match(
        detail,
        /checksum mismatch for newest\/example\.com_widgets\.yaml/,
      );
      assert.ok(detail.includes(`expected sha256 ${entry.sha256}`), detail);
      assert.ok(
        detail.includes(`got ${sha256(tamper(contents[file]))}`),
        detail,
      );
      assert.ok(detail.includes(path.join(mirror, file)), detail);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    },
  );
  // The good files are cached; the bad one is not, and no temp file is left behind.
  assert.deepEqual(listAll(cache), [
    'example.com_gadgets.yaml',
    'example.com_widgets.yaml',
  ]);
});

test('a corrupted cached file is replaced', async () => {
  const file = 'example.com_gadgets.yaml';
  const cache = folder({ ...contents, [file]: tamper(contents[file]) });
  assert.equal(checkCache({ cache, entries }).bad.length, 1);
  const result = await fetchCrds({
    entries,
    cache,
    mirror: folder(contents),
    offline: true,
  });
  assert.deepEqual(result.replaced, [file]);
  assert.deepEqual(result.copied, [file]);
  assert.equal(read(cache, file), contents[file]);
  assert.equal(checkCache({ cache, entries }).ok.length, 3);
});

test('a corrupted cached file is removed even when it cannot be replaced', async () => {
  const file = 'example.com_gadgets.yaml';
  const cache = folder({ ...contents, [file]: tamper(contents[file]) });
  await assert.rejects(
    fetchCrds({ entries, cache, mirror: null, offline: true }),
    /1 CRD file missing and not copyable/,
  );
  assert.ok(!fs.existsSync(path.join(cache, file)));
});

test('downloads the right bytes from the URL base (following redirects)', async () => {
  serveAll();
  const cache = path.join(work, 'cache-download');
  const result = await fetchCrds({ entries, cache, mirror: null, urlBase });
  assert.deepEqual(result.downloaded.sort(), Object.keys(contents).sort());
  for (const file of Object.keys(contents))
    assert.equal(read(cache, file), contents[file]);

  const viaRedirect = path.join(work, 'cache-redirect');
  await fetchCrds({
    entries,
    cache: viaRedirect,
    mirror: null,
    urlBase: `${urlBase}/moved`,
  });
  assert.equal(checkCache({ cache: viaRedirect, entries }).ok.length, 3);
});

test('a download with wrong bytes is refused and not cached', async () => {
  const file = 'example.com_widgets.yaml';
  serveAll({ [file]: tamper(contents[file]) });
  const cache = path.join(work, 'cache-bad-download');
  await assert.rejects(
    fetchCrds({ entries, cache, mirror: null, urlBase }),
    e => {
      assert.equal(e.details.length, 1);
      assert.match(
        e.details[0],
        /checksum mismatch for example\.com_widgets\.yaml from http:\/\/127\.0\.0\.1:\d+\/example\/crds\/v1\.0\.0\/config\/crd\/example\.com_widgets\.yaml: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}; not cached/,
      );
      return true;
    },
  );
  assert.deepEqual(listAll(cache), [
    'example.com_gadgets.yaml',
    'newest/example.com_widgets.yaml',
  ]);
});

test('what the mirror lacks is downloaded; a file the server lacks is reported', async () => {
  serveAll();
  const partial = folder({
    'example.com_widgets.yaml': contents['example.com_widgets.yaml'],
  });
  const cache = path.join(work, 'cache-mixed');
  const result = await fetchCrds({ entries, cache, mirror: partial, urlBase });
  assert.deepEqual(result.copied, ['example.com_widgets.yaml']);
  assert.deepEqual(result.downloaded.sort(), [
    'example.com_gadgets.yaml',
    'newest/example.com_widgets.yaml',
  ]);

  served.delete(new URL(sourceUrl(entries[1], urlBase)).pathname);
  const cache404 = path.join(work, 'cache-404');
  await assert.rejects(
    fetchCrds({ entries, cache: cache404, mirror: null, urlBase }),
    e => {
      assert.match(e.details.join('\n'), /HTTP 404/);
      assert.match(
        e.message,
        /^kubeai crds: 1 CRD file missing and not downloadable /,
      );
      return true;
    },
  );
  assert.equal(listAll(cache404).length, 2);
});

test('with neither a mirror nor a download, the command ends with one line saying what to do', async () => {
  const port = await closedPort();
  const cache = path.join(work, 'cache-nothing');
  let outcome;
  try {
    await promisify(execFile)(process.execPath, [script, 'fetch'], {
      env: {
        ...process.env,
        KUBEAI_CRDS_CACHE: cache,
        KUBEAI_CRDS_DIR: path.join(work, 'no-such-mirror'),
        KUBEAI_CRDS_URL_BASE: `http://127.0.0.1:${port}`,
      },
      timeout: 60_000,
    });
    outcome = { code: 0 };
  } catch (e) {
    outcome = e;
  }
  assert.equal(outcome.code, 1);
  const lines = outcome.stderr.trim().split('\n');
  assert.equal(lines.length, 1, outcome.stderr);
  assert.match(
    lines[0],
    /^kubeai crds: 35 CRD files missing and not downloadable \(no local copy: KUBEAI_CRDS_DIR=.*no-such-mirror does not exist; download from 127\.0\.0\.1:\d+ failed: ECONNREFUSED\); set KUBEAI_CRDS_DIR=\/path\/to\/crds .* or run 'yarn crds:fetch' with internet access/,
  );
  assert.deepEqual(listAll(cache), []);
});
