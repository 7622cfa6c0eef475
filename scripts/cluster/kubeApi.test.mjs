// Unit tests of kubeApi.mjs against a local HTTPS stand-in (no cluster).
// Run: node --test scripts/cluster/kubeApi.test.mjs
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import { haveOpenssl, startFakeApiserver } from './fakeApiserver.mjs';
import {
  FIELD_MANAGER,
  apiMessage,
  caFor,
  createOrReplace,
  httpGet,
  isReady,
  kube,
  kubeRequest,
} from './kubeApi.mjs';
import { ClusterError } from './util.mjs';

test('apiMessage: the Status message, else the text (at most 300 characters)', () => {
  assert.equal(apiMessage({ body: { message: 'forbidden' } }), 'forbidden');
  assert.equal(apiMessage({ body: 'plain' }), 'plain');
  assert.equal(apiMessage({ body: 'x'.repeat(500) }).length, 300);
});

test('caFor: the CA file of the state, null when missing', () => {
  assert.equal(caFor(null), null);
  assert.equal(caFor({ caFile: '/nonexistent/ca.crt' }), null);
});

test('httpGet: status and text', async () => {
  const server = http.createServer((req, res) => res.end('{"health":"true"}'));
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  try {
    const res = await httpGet(
      `http://127.0.0.1:${server.address().port}/health`,
    );
    assert.deepEqual(res, { status: 200, body: '{"health":"true"}' });
  } finally {
    await new Promise(r => server.close(r));
  }
});

describe(
  'against an HTTPS stand-in',
  { skip: !haveOpenssl && 'no openssl' },
  () => {
    let fake;
    /** name → { resourceVersion, obj } */
    let objects;
    let conflicts;
    before(async () => {
      fake = await startFakeApiserver(({ method, path, body }) => {
        const url = new URL(path, 'https://x');
        if (url.pathname === '/readyz') return { status: 200, body: 'ok' };
        const m = /^\/api\/v1\/configmaps(?:\/([^/]+))?$/.exec(url.pathname);
        if (!m) return { status: 404, body: { message: 'not found' } };
        if (method === 'POST') {
          if (body.metadata.name === 'bad')
            return { status: 422, body: { message: 'invalid' } };
          if (objects.has(body.metadata.name))
            return { status: 409, body: { message: 'exists' } };
          objects.set(body.metadata.name, { resourceVersion: '1', obj: body });
          return { status: 201, body };
        }
        const current = objects.get(m[1]);
        if (method === 'GET')
          return current
            ? {
                status: 200,
                body: {
                  metadata: { resourceVersion: current.resourceVersion },
                },
              }
            : { status: 404, body: { message: 'gone' } };
        if (method === 'PUT') {
          if (conflicts > 0) {
            conflicts--;
            return { status: 409, body: { message: 'conflict' } };
          }
          if (body.metadata.resourceVersion !== current.resourceVersion)
            return { status: 409, body: { message: 'stale' } };
          if (body.data?.invalid)
            return { status: 422, body: { message: 'no' } };
          objects.set(m[1], {
            resourceVersion: String(Number(current.resourceVersion) + 1),
            obj: body,
          });
          return { status: 200, body };
        }
        if (method === 'PATCH') {
          if (!current) return { status: 404, body: { message: 'gone' } };
          // a JSON merge patch of the labels, as the apiserver applies one
          current.obj = {
            ...current.obj,
            metadata: {
              ...current.obj.metadata,
              labels: {
                ...current.obj.metadata.labels,
                ...body.metadata.labels,
              },
            },
          };
          return { status: 200, body: current.obj };
        }
        return { status: 405, body: 'no' };
      });
    });
    beforeEach(() => {
      objects = new Map();
      conflicts = 0;
      fake.requests.length = 0;
    });
    after(() => fake.close());

    test('kubeRequest verifies with the state CA, sends the admin token, parses JSON or keeps text', async () => {
      const ready = await kubeRequest(fake.state, 'GET', '/readyz');
      assert.deepEqual(ready, { status: 200, body: 'ok' });
      assert.equal(
        fake.requests[0].headers.authorization,
        'Bearer admin-token',
      );
      const missing = await kubeRequest(fake.state, 'GET', '/nope', null, {
        token: 'other',
      });
      assert.deepEqual(missing, {
        status: 404,
        body: { message: 'not found' },
      });
      assert.equal(fake.requests[1].headers.authorization, 'Bearer other');
      await kubeRequest(fake.state, 'GET', '/nope', null, { token: null });
      assert.equal(fake.requests[2].headers.authorization, undefined);
      assert.equal(await isReady(fake.state), true);
    });

    test('kube turns a connection failure into a ClusterError naming the request', async () => {
      await assert.rejects(
        kube(
          { ...fake.state, server: 'https://127.0.0.1:1' },
          'GET',
          '/readyz',
        ),
        e => e instanceof ClusterError && /^GET \/readyz: /.test(e.message),
      );
      assert.equal(
        await isReady({ ...fake.state, server: 'https://127.0.0.1:1' }),
        false,
      );
    });

    const cm = (name, data = {}) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name },
      data,
    });

    test('createOrReplace: created, then updated with the current resourceVersion, or kept', async () => {
      const coll = '/api/v1/configmaps';
      assert.equal(await createOrReplace(fake.state, coll, cm('a')), 'created');
      assert.equal(
        fake.requests[0].path,
        `${coll}?fieldManager=${FIELD_MANAGER}`,
      );
      assert.equal(
        await createOrReplace(fake.state, coll, cm('a', { v: '2' })),
        'updated',
      );
      assert.deepEqual(objects.get('a').obj.data, { v: '2' });
      assert.equal(
        await createOrReplace(fake.state, coll, cm('a', { v: '3' }), {
          replace: false,
        }),
        'kept',
      );
      assert.deepEqual(objects.get('a').obj.data, { v: '2' });
    });

    test("createOrReplace with replace: 'labels' merges the labels into the existing object", async () => {
      const coll = '/api/v1/configmaps';
      const labelled = (name, labels, data) => ({
        ...cm(name, data),
        metadata: { name, labels },
      });
      assert.equal(
        await createOrReplace(
          fake.state,
          coll,
          labelled('l', { a: '1' }, { v: '1' }),
        ),
        'created',
      );
      objects.get('l').obj.metadata.labels.theirs = 'kept';
      fake.requests.length = 0;
      assert.equal(
        await createOrReplace(
          fake.state,
          coll,
          labelled('l', { a: '2', b: '3' }, { v: 'ignored' }),
          { replace: 'labels' },
        ),
        'updated',
      );
      const patch = fake.requests.find(r => r.method === 'PATCH');
      assert.equal(patch.path, `${coll}/l?fieldManager=${FIELD_MANAGER}`);
      assert.equal(
        patch.headers['content-type'],
        'application/merge-patch+json',
      );
      assert.deepEqual(objects.get('l').obj.metadata.labels, {
        a: '2',
        b: '3',
        theirs: 'kept',
      });
      assert.deepEqual(objects.get('l').obj.data, { v: '1' });
      // the object vanished between the POST's 409 and the PATCH
      const vanishing = labelled('gone', { a: '1' });
      objects.set('gone', { resourceVersion: '1', obj: vanishing });
      const original = objects.get.bind(objects);
      objects.get = name => (name === 'gone' ? undefined : original(name));
      try {
        await assert.rejects(
          createOrReplace(fake.state, coll, vanishing, { replace: 'labels' }),
          /cannot label ConfigMap gone: HTTP 404: gone/,
        );
      } finally {
        delete objects.get;
      }
    });

    test('createOrReplace retries conflicts, gives up after five; errors carry the status', async () => {
      const coll = '/api/v1/configmaps';
      await createOrReplace(fake.state, coll, cm('b'));
      conflicts = 2;
      assert.equal(await createOrReplace(fake.state, coll, cm('b')), 'updated');
      conflicts = 5;
      await assert.rejects(
        createOrReplace(fake.state, coll, cm('b')),
        /cannot update ConfigMap b: repeated conflicts/,
      );
      await assert.rejects(
        createOrReplace(fake.state, coll, cm('b', { invalid: 'y' })),
        e =>
          e instanceof ClusterError &&
          e.status === 422 &&
          /cannot update ConfigMap b: HTTP 422: no/.test(e.message),
      );
      await assert.rejects(
        createOrReplace(fake.state, coll, cm('bad')),
        /cannot create ConfigMap bad: HTTP 422: invalid/,
      );
    });
  },
);
