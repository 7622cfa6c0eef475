/*
 * The gateway's configuration, retries and error mapping, against a scripted HTTP apiserver
 * (no cluster needed).
 */
import { ConfigReader } from '@backstage/config';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { ClusterGateway } from './ClusterGateway';
import { readClusterConnections } from './config';
import {
  clusterAnswerStatus,
  ClusterInputError,
  isTransient,
  redact,
  toClusterError,
} from './errors';

// The first import() of @kubernetes/client-node under jest's VM modules takes seconds on a busy machine.
jest.setTimeout(60_000);

const TOKEN = 'sa-token-0123456789abcdef';
const logger = {
  debug: jest.fn(),
  info: jest.fn(),
  warn: jest.fn(),
  error: jest.fn(),
};

type Reply =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | 'reset';

/** A fake apiserver: discovery for kubeflow.org/v1 Notebook, scripted replies for everything else. */
async function fakeApiserver(replies: Reply[]) {
  const requests: Array<{
    method: string;
    url: string;
    auth?: string;
    contentType?: string;
    body: string;
  }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', chunk => (body += chunk));
    req.on('end', () => {
      if (req.url === '/apis/kubeflow.org/v1') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'APIResourceList',
            groupVersion: 'kubeflow.org/v1',
            resources: [
              {
                name: 'notebooks',
                namespaced: true,
                kind: 'Notebook',
                verbs: ['patch'],
              },
            ],
          }),
        );
        return;
      }
      requests.push({
        method: req.method!,
        url: req.url!,
        auth: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
      });
      const reply = replies.shift() ?? {
        status: 500,
        body: { message: 'no reply scripted' },
      };
      if (reply === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        ...reply.headers,
      });
      res.end(JSON.stringify(reply.body ?? {}));
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const gateway = new ClusterGateway(
    // client-node refuses plain http unless skipTLSVerify is set
    [{ name: 'fake', url, token: TOKEN, skipTLSVerify: true }],
    { logger, retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 20 } },
  );
  return {
    gateway,
    requests,
    close: () => new Promise(resolve => server.close(resolve)),
  };
}

const notebook = {
  apiVersion: 'kubeflow.org/v1',
  kind: 'Notebook',
  metadata: { name: 'nb', namespace: 'ns' },
  spec: {
    template: { spec: { containers: [{ name: 'nb', image: 'jupyter' }] } },
  },
};
const stored = { ...notebook, metadata: { ...notebook.metadata, uid: 'u' } };

describe('ClusterGateway (scripted apiserver)', () => {
  it('server-side applies with field manager kubeai, force and the bearer token', async () => {
    const fake = await fakeApiserver([
      { status: 200, body: stored },
      { status: 201, body: stored },
    ]);
    try {
      expect(await fake.gateway.apply('fake', [notebook])).toEqual([stored]);
      await fake.gateway.apply(
        'fake',
        [
          {
            ...notebook,
            metadata: { ...notebook.metadata, managedFields: [{}] },
          },
        ],
        { dryRun: true },
      );
      const [apply, dryRun] = fake.requests;
      expect(apply.method).toBe('PATCH');
      expect(apply.url).toBe(
        '/apis/kubeflow.org/v1/namespaces/ns/notebooks/nb?fieldManager=kubeai&force=true',
      );
      expect(apply.contentType).toBe('application/apply-patch+yaml');
      expect(apply.auth).toBe(`Bearer ${TOKEN}`);
      expect(JSON.parse(apply.body)).toEqual(notebook);
      expect(dryRun.url).toBe(
        '/apis/kubeflow.org/v1/namespaces/ns/notebooks/nb?dryRun=All&fieldManager=kubeai&force=true',
      );
      expect(JSON.parse(dryRun.body).metadata).not.toHaveProperty(
        'managedFields',
      );
    } finally {
      await fake.close();
    }
  });

  it('retries 5xx, 429 and connection resets, then succeeds', async () => {
    const fake = await fakeApiserver([
      { status: 503, body: { message: 'etcd leader changed' } },
      { status: 429, body: {}, headers: { 'retry-after': '1' } },
      { status: 200, body: stored },
      'reset',
      { status: 200, body: stored },
    ]);
    try {
      expect(await fake.gateway.apply('fake', [notebook])).toEqual([stored]);
      expect(fake.requests).toHaveLength(3);
      expect(await fake.gateway.apply('fake', [notebook])).toEqual([stored]);
      expect(fake.requests).toHaveLength(5);
    } finally {
      await fake.close();
    }
  });

  it('gives up after the retries with a ServiceUnavailableError', async () => {
    const fake = await fakeApiserver([
      { status: 500, body: {} },
      { status: 502 },
      { status: 504 },
      { status: 200, body: stored },
    ]);
    try {
      const error = await fake.gateway.apply('fake', [notebook]).catch(e => e);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error.message).toBe(
        'cluster "fake" failed to apply Notebook "nb" (HTTP 504)',
      );
      expect(fake.requests).toHaveLength(3);
    } finally {
      await fake.close();
    }
  });

  it('does not retry client errors, and redacts the token from messages', async () => {
    const fake = await fakeApiserver([
      {
        status: 400,
        body: {
          kind: 'Status',
          message: `bad request from Bearer ${TOKEN} (token ${TOKEN})`,
        },
      },
      { status: 401, body: { message: `token ${TOKEN} rejected` } },
      {
        status: 403,
        body: {
          kind: 'Status',
          reason: 'Forbidden',
          message: 'forbidden',
          details: { name: 'nb', group: 'kubeflow.org', kind: 'notebooks' },
        },
      },
      { status: 409, body: { message: 'the object has been modified' } },
    ]);
    try {
      const bad = await fake.gateway.apply('fake', [notebook]).catch(e => e);
      expect(bad).toBeInstanceOf(InputError);
      expect(bad.message).toBe(
        'cannot apply Notebook "nb" in namespace "ns" of cluster "fake": bad request from Bearer [redacted] (token [redacted])',
      );
      const unauthorized = await fake.gateway
        .apply('fake', [notebook])
        .catch(e => e);
      expect(unauthorized).toBeInstanceOf(ServiceUnavailableError);
      expect(unauthorized.message).not.toContain(TOKEN);
      const forbidden = await fake.gateway
        .apply('fake', [notebook])
        .catch(e => e);
      expect(forbidden).toBeInstanceOf(NotAllowedError);
      expect(forbidden.message).toBe(
        'kubeai cannot apply notebooks in namespace "ns" of cluster "fake": forbidden',
      );
      const conflict = await fake.gateway
        .apply('fake', [notebook])
        .catch(e => e);
      expect(conflict).toBeInstanceOf(ConflictError);
      expect(fake.requests).toHaveLength(4);
    } finally {
      await fake.close();
    }
  });

  it('reports an unreachable cluster as unavailable, without retrying refused connections', async () => {
    const fake = await fakeApiserver([]);
    await fake.close();
    const gateway = new ClusterGateway(
      [
        {
          name: 'gone',
          url: fake.gateway.listClusters()[0].url,
          token: TOKEN,
          skipTLSVerify: true,
        },
      ],
      { logger, retry: { retries: 2, baseDelayMs: 1 } },
    );
    const error = await gateway
      .get('gone', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: 'ns',
        name: 'x',
      })
      .catch(e => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toMatch(
      /^cannot reach cluster "gone" to get configmaps: ECONNREFUSED/,
    );
  });
});

describe('error mapping', () => {
  const ctx = {
    cluster: 'c',
    verb: 'apply',
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    namespace: 'prod',
    name: 'm',
  };
  it('maps 422 causes, 404 and transient codes', () => {
    const invalid = toClusterError(
      {
        code: 422,
        body: {
          kind: 'Status',
          reason: 'Invalid',
          message: 'x',
          details: {
            causes: [
              {
                reason: 'FieldValueRequired',
                message: 'Required value',
                field: 'spec.predictor.model.modelFormat.name',
              },
            ],
          },
        },
      },
      ctx,
      [],
    ) as ClusterInputError;
    expect(invalid).toBeInstanceOf(ClusterInputError);
    expect(invalid.name).toBe('InputError');
    expect(invalid.causes).toEqual([
      {
        field: 'spec.predictor.model.modelFormat.name',
        message: 'Required value',
      },
    ]);
    expect(invalid.message).toBe(
      'InferenceService "m" is invalid in namespace "prod" of cluster "c": spec.predictor.model.modelFormat.name: Required value',
    );
    expect(
      toClusterError({ code: 404, body: '404 page not found' }, ctx, []),
    ).toBeInstanceOf(NotFoundError);
    expect(
      toClusterError(
        { code: 403, body: {} },
        { ...ctx, kind: 'Notebook', verb: 'create' },
        [],
      ).message,
    ).toBe(
      'kubeai cannot create notebooks in namespace "prod" of cluster "c": forbidden',
    );
    expect(isTransient({ code: 503 })).toBe(true);
    expect(isTransient({ code: 429 })).toBe(true);
    expect(isTransient({ code: 501 })).toBe(false);
    expect(isTransient({ code: 404 })).toBe(false);
    expect(
      isTransient(Object.assign(new Error('x'), { code: 'ECONNRESET' })),
    ).toBe(true);
    expect(
      isTransient(Object.assign(new Error('x'), { code: 'ETIMEDOUT' })),
    ).toBe(true);
    expect(
      isTransient(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })),
    ).toBe(false);
    expect(redact('Authorization: Bearer abc.def-ghi', [])).toBe(
      'Authorization: Bearer [redacted]',
    );
  });
});

describe('clusterAnswerStatus (the per-item status of a batch)', () => {
  const ctx = { cluster: 'c', verb: 'apply', kind: 'Job', namespace: 'ns' };
  it('is what the cluster answered, 503 when it did not answer, the portal’s own statusCode first', () => {
    expect(
      clusterAnswerStatus(toClusterError({ code: 403, body: {} }, ctx, [])),
    ).toBe(403);
    expect(
      clusterAnswerStatus(toClusterError({ code: 409, body: {} }, ctx, [])),
    ).toBe(409);
    expect(
      clusterAnswerStatus(toClusterError({ code: 422, body: {} }, ctx, [])),
    ).toBe(422);
    expect(
      clusterAnswerStatus(toClusterError({ code: 418, body: {} }, ctx, [])),
    ).toBe(418);
    expect(
      clusterAnswerStatus(
        toClusterError(
          Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
          ctx,
          [],
        ),
      ),
    ).toBe(503);
    expect(
      clusterAnswerStatus(Object.assign(new Error('x'), { statusCode: 422 })),
    ).toBe(422);
    expect(clusterAnswerStatus(new Error('not from the cluster'))).toBe(500);
  });
});

describe('cluster configuration', () => {
  const directories: string[] = [];
  const temporaryDirectory = () => {
    directories.push(fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-')));
    return directories[directories.length - 1];
  };
  afterAll(() =>
    directories.forEach(dir =>
      fs.rmSync(dir, { recursive: true, force: true }),
    ),
  );

  const config = (clusters: any[], extra: any[] = []) =>
    new ConfigReader({
      kubernetes: {
        clusterLocatorMethods: [{ type: 'config', clusters }, ...extra],
      },
    });

  it('reads config clusters: url, token, CA or skipTLSVerify; several clusters', () => {
    const connections = readClusterConnections(
      config(
        [
          {
            name: 'a',
            url: 'https://a.example.com:6443/',
            authProvider: 'serviceAccount',
            serviceAccountToken: 't-a',
            caData: 'Q0E=',
          },
          {
            name: 'b',
            url: 'https://b.example.com',
            serviceAccountToken: 't-b',
            skipTLSVerify: true,
            caFile: '/ca.crt',
          },
          {
            name: 'c',
            url: 'https://c.example.com',
            authMetadata: {
              'kubernetes.io/auth-provider': 'serviceAccount',
              serviceAccountToken: 't-c',
            },
          },
        ],
        [{ type: 'gke', projectId: 'x' }],
      ),
      logger,
      { inClusterTokenFile: '/nonexistent' },
    );
    expect(connections).toEqual([
      {
        name: 'a',
        url: 'https://a.example.com:6443',
        token: 't-a',
        caData: 'Q0E=',
        caFile: undefined,
        skipTLSVerify: false,
      },
      {
        name: 'b',
        url: 'https://b.example.com',
        token: 't-b',
        caData: undefined,
        caFile: '/ca.crt',
        skipTLSVerify: true,
      },
      {
        name: 'c',
        url: 'https://c.example.com',
        token: 't-c',
        caData: undefined,
        caFile: undefined,
        skipTLSVerify: false,
      },
    ]);
    const gateway = new ClusterGateway(connections, { logger });
    expect(gateway.listClusters()).toEqual([
      { name: 'a', url: 'https://a.example.com:6443' },
      { name: 'b', url: 'https://b.example.com' },
      { name: 'c', url: 'https://c.example.com' },
    ]);
  });

  it('skips clusters it cannot authenticate to and rejects bad config', () => {
    const warn = jest.fn();
    const tokenFile = path.join(temporaryDirectory(), 'token');
    fs.writeFileSync(tokenFile, 'in-cluster-token\n');
    const connections = readClusterConnections(
      config([
        { name: 'oidc', url: 'https://x', authProvider: 'oidc' },
        { name: 'pod', url: 'https://kubernetes.default.svc' },
      ]),
      { ...logger, warn },
      { inClusterTokenFile: tokenFile },
    );
    expect(connections.map(c => [c.name, c.token])).toEqual([
      ['pod', 'in-cluster-token'],
    ]);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('skipping cluster "oidc"'),
    );
    expect(
      readClusterConnections(
        config([{ name: 'none', url: 'https://x' }]),
        { ...logger, warn },
        { inClusterTokenFile: '/nonexistent' },
      ),
    ).toEqual([]);
    expect(() =>
      readClusterConnections(
        config([
          { name: 'a', url: 'https://x', serviceAccountToken: 't' },
          { name: 'a', url: 'https://y', serviceAccountToken: 't' },
        ]),
      ),
    ).toThrow('kubernetes cluster "a" is configured twice');
    expect(() =>
      readClusterConnections(
        config([{ name: 'a', url: 'x.example.com', serviceAccountToken: 't' }]),
      ),
    ).toThrow(/url must be http/);
    expect(readClusterConnections(new ConfigReader({}))).toEqual([]);
  });
});
