// The small HTTPS client to the apiserver (admin token, the generated CA), its readiness, a plain
// HTTP GET (etcd's /health), and create-or-replace of an object.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { ClusterError } from './util.mjs';

export const FIELD_MANAGER = 'kubeai-cluster';

export function caFor(state) {
  try {
    return state?.caFile ? fs.readFileSync(state.caFile) : null;
  } catch {
    return null;
  }
}

/**
 * One request to the apiserver. Returns { status, body } (body parsed as JSON when possible).
 * Verifies TLS with the apiserver's generated CA when it exists.
 */
export function kubeRequest(
  state,
  method,
  urlPath,
  body,
  {
    token,
    contentType = 'application/json',
    accept = 'application/json',
    timeoutMs = 60_000,
  } = {},
) {
  const url = new URL(urlPath, state.server);
  const payload =
    body == null
      ? null
      : typeof body === 'string'
      ? body
      : JSON.stringify(body);
  const ca = caFor(state);
  const headers = { Accept: accept };
  const bearer = token === undefined ? state.tokens?.admin : token;
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (payload != null) {
    headers['Content-Type'] = contentType;
    headers['Content-Length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        headers,
        ...(ca ? { ca } : { rejectUnauthorized: false }),
        timeout: timeoutMs,
      },
      res => {
        const chunks = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* plain text (e.g. /readyz) */
          }
          resolve({ status: res.statusCode, body: parsed });
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`timeout after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    if (payload != null) req.write(payload);
    req.end();
  });
}

export async function kube(state, method, urlPath, body, opts) {
  let res;
  try {
    res = await kubeRequest(state, method, urlPath, body, opts);
  } catch (e) {
    throw new ClusterError(`${method} ${urlPath}: ${e.message}`);
  }
  return res;
}

export function apiMessage(res) {
  return typeof res.body === 'object' && res.body?.message
    ? res.body.message
    : String(res.body).slice(0, 300);
}

export async function isReady(state) {
  try {
    const res = await kubeRequest(state, 'GET', '/readyz', null, {
      timeoutMs: 3000,
    });
    return res.status === 200;
  } catch {
    return false;
  }
}

export function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * POST; on 409 replace it (PUT with the current resourceVersion), or with `replace: 'labels'` merge
 * its labels into the existing object (whatever else it holds stays), or with `replace: false` keep
 * it. Returns 'created' | 'updated' | 'kept'.
 */
export async function createOrReplace(
  state,
  collectionPath,
  obj,
  { replace = true } = {},
) {
  const name = obj.metadata.name;
  const created = await kube(
    state,
    'POST',
    `${collectionPath}?fieldManager=${FIELD_MANAGER}`,
    obj,
  );
  if (created.status === 201 || created.status === 200) return 'created';
  if (created.status !== 409) {
    throw new ClusterError(
      `cannot create ${obj.kind} ${name}: HTTP ${created.status}: ${apiMessage(
        created,
      )}`,
    );
  }
  if (!replace) return 'kept';
  if (replace === 'labels') {
    const patched = await kube(
      state,
      'PATCH',
      `${collectionPath}/${name}?fieldManager=${FIELD_MANAGER}`,
      { metadata: { labels: obj.metadata.labels ?? {} } },
      { contentType: 'application/merge-patch+json' },
    );
    if (patched.status === 200) return 'updated';
    throw new ClusterError(
      `cannot label ${obj.kind} ${name}: HTTP ${patched.status}: ${apiMessage(
        patched,
      )}`,
    );
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await kube(state, 'GET', `${collectionPath}/${name}`);
    if (current.status !== 200) {
      throw new ClusterError(
        `cannot read ${obj.kind} ${name}: HTTP ${current.status}: ${apiMessage(
          current,
        )}`,
      );
    }
    const next = {
      ...obj,
      metadata: {
        ...obj.metadata,
        resourceVersion: current.body.metadata.resourceVersion,
      },
    };
    const put = await kube(
      state,
      'PUT',
      `${collectionPath}/${name}?fieldManager=${FIELD_MANAGER}`,
      next,
    );
    if (put.status === 200 || put.status === 201) return 'updated';
    if (put.status === 409) continue;
    const err = new ClusterError(
      `cannot update ${obj.kind} ${name}: HTTP ${put.status}: ${apiMessage(
        put,
      )}`,
    );
    err.status = put.status;
    throw err;
  }
  throw new ClusterError(
    `cannot update ${obj.kind} ${name}: repeated conflicts`,
  );
}
