import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ResponseError } from '@backstage/errors';
import { kubeaiOperationIds } from './client.generated';
import { KubeaiClient } from './KubeaiClient';

/**
 * `METHOD path` of each operationId of the spec, read from the YAML itself (its `paths:` section:
 * a path at indent 2, a method at indent 4, its `operationId` at indent 6).
 */
function specOperations(): Map<string, string> {
  const yaml = readFileSync(
    resolve(__dirname, '../../../kubeai-backend/src/schema/openapi.yaml'),
    'utf8',
  );
  const paths = yaml.slice(
    yaml.indexOf('\npaths:\n'),
    yaml.indexOf('\ncomponents:\n'),
  );
  const operations = new Map<string, string>();
  let path = '';
  let method = '';
  for (const line of paths.split('\n')) {
    const m =
      /^ {2}(\/\S*):$/.exec(line) ??
      /^ {4}(get|put|post|patch|delete):$/.exec(line) ??
      /^ {6}operationId: *['"]?(\w+)/.exec(line);
    if (!m) continue;
    if (line.startsWith('      ')) operations.set(m[1], `${method} ${path}`);
    else if (line.startsWith('    ')) method = m[1].toUpperCase();
    else path = m[1];
  }
  return operations;
}

/** A fetch that records calls and answers with `status` and `body`. */
function fakeFetch(status = 200, body: unknown = {}) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fetch = jest.fn(
    async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), init });
      return new Response(JSON.stringify(body), {
        status,
        statusText: status >= 400 ? 'Error' : 'OK',
        headers: { 'content-type': 'application/json' },
      });
    },
  );
  return {
    calls,
    fetchApi: { fetch: fetch as unknown as typeof globalThis.fetch },
  };
}

const discoveryApi = {
  getBaseUrl: async (pluginId: string) =>
    `https://portal.example.com/api/${pluginId}`,
};

describe('KubeaiClient', () => {
  it('posts a model version to the model path, as JSON', async () => {
    const { calls, fetchApi } = fakeFetch(201, { version: 3 });
    const client = new KubeaiClient({ discoveryApi, fetchApi });
    const result = await client.createModelVersion(
      { namespace: 'default', name: 'shoe-classifier' },
      { artifact: { uri: 's3://m/x', format: 'onnx' }, metrics: { auc: 0.9 } },
    );
    expect(result).toEqual({ version: 3 });
    expect(calls).toEqual([
      {
        url: 'https://portal.example.com/api/kubeai/models/default/shoe-classifier/versions',
        init: {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{"artifact":{"uri":"s3://m/x","format":"onnx"},"metrics":{"auc":0.9}}',
        },
      },
    ]);
  });

  it('encodes query parameters and path segments, and skips undefined ones', async () => {
    const { calls, fetchApi } = fakeFetch(200, {
      roots: [],
      nodes: [],
      edges: [],
    });
    const client = new KubeaiClient({ discoveryApi, fetchApi });
    await client.getLineage({
      entityRef: 'model:default/shoe-classifier',
      version: '3',
      direction: 'upstream',
      depth: undefined,
    });
    await client.getModelVersionByAlias(
      { namespace: 'default', name: 'x' },
      'prod canary',
    );
    expect(calls.map(c => c.url)).toEqual([
      'https://portal.example.com/api/kubeai/lineage?entityRef=model%3Adefault%2Fshoe-classifier&version=3&direction=upstream',
      'https://portal.example.com/api/kubeai/models/default/x/versions/by-alias/prod%20canary',
    ]);
    expect(calls[0].init?.method).toBe('GET');
    expect(calls[0].init?.body).toBeUndefined();
  });

  it('deletes portal-created objects at their status paths, with dryRun and kind as query', async () => {
    const { calls, fetchApi } = fakeFetch(200, { dryRun: true, deleted: [] });
    const client = new KubeaiClient({ discoveryApi, fetchApi });
    const target = { cluster: 'prod', namespace: 'team-a', name: 'nb 1' };
    const result = await client.deleteNotebook(target, { dryRun: true });
    expect(result).toEqual({ dryRun: true, deleted: [] });
    await client.deleteJob(target, { kind: 'CronJob' });
    await client.deleteDataset(target);
    await client.deleteInferenceService(target);
    await client.deletePipeline(target, { dryRun: false });
    const base =
      'https://portal.example.com/api/kubeai/clusters/prod/namespaces/team-a';
    expect(calls.map(c => c.url)).toEqual([
      `${base}/notebooks/nb%201?dryRun=true`,
      `${base}/jobs/nb%201?kind=CronJob`,
      `${base}/datasets/nb%201`,
      `${base}/inference-services/nb%201`,
      `${base}/pipelines/nb%201?dryRun=false`,
    ]);
    expect(calls.every(c => c.init?.method === 'DELETE')).toBe(true);
    expect(calls.every(c => c.init?.body === undefined)).toBe(true);
  });

  it('sends a backend token when given one', async () => {
    const { calls, fetchApi } = fakeFetch(200, { items: [], totalItems: 0 });
    const client = new KubeaiClient({ discoveryApi, fetchApi });
    await client.listRuns({ phase: 'Running' }, { token: 'abc' });
    expect(calls[0].url).toBe(
      'https://portal.example.com/api/kubeai/runs?phase=Running',
    );
    expect(calls[0].init?.headers).toEqual({ Authorization: 'Bearer abc' });
  });

  it('throws ResponseError with the server error', async () => {
    const { fetchApi } = fakeFetch(404, {
      error: {
        name: 'NotFoundError',
        message: 'model:default/x has no version 9',
      },
      response: { statusCode: 404 },
    });
    const client = new KubeaiClient({ discoveryApi, fetchApi });
    const error = await client
      .getModelVersion({ namespace: 'default', name: 'x' }, 9)
      .catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(404);
    expect(error.body.error.message).toBe('model:default/x has no version 9');
  });

  it('has one method per operationId of openapi.yaml, sending to its path', async () => {
    const spec = specOperations();
    expect(spec.size).toBeGreaterThan(40);
    expect([...kubeaiOperationIds].sort()).toEqual([...spec.keys()].sort());

    const { calls, fetchApi } = fakeFetch(200, {});
    const client = new KubeaiClient({ discoveryApi, fetchApi });
    const base = 'https://portal.example.com/api/kubeai';
    for (const [operationId, route] of spec) {
      const method = (client as any)[operationId];
      expect(typeof method).toBe('function');
      // Path parameters as `{param}`: `{namespace}/{name}` of an entity, or `{cluster}/
      // {namespace}/{name}` of a cluster object, as one argument; any other one by itself.
      const [verb, path] = route.split(' ');
      const params = [...path.matchAll(/\{(\w+)\}/g)].map(m => m[1]);
      const joined = params.join('/');
      let grouped: string[] = [];
      if (joined.endsWith('cluster/namespace/name')) {
        grouped = ['cluster', 'namespace', 'name'];
      } else if (joined.includes('namespace/name')) {
        grouped = ['namespace', 'name'];
      }
      const args: unknown[] = grouped.length
        ? [Object.fromEntries(grouped.map(p => [p, `{${p}}`]))]
        : [];
      args.push(...params.filter(p => !grouped.includes(p)).map(p => `{${p}}`));
      calls.length = 0;
      await method.apply(client, args);
      expect(`${calls[0].init?.method} ${calls[0].url.split('?')[0]}`).toBe(
        `${verb} ${base}${path.replace(/\{(\w+)\}/g, p =>
          encodeURIComponent(p),
        )}`,
      );
    }
  });
});
