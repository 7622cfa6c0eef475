import { ResponseError } from '@backstage/errors';
import { KubeaiClient } from './KubeaiClient';
import { kubeaiRunLogsReadPermission } from './observed';

function fakeFetch(
  status: number,
  body: string,
  contentType = 'application/json',
) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fetch = jest.fn(
    async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), init });
      return new Response(body, {
        status,
        statusText: status >= 400 ? 'Error' : 'OK',
        headers: { 'content-type': contentType },
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

describe('KubeaiClient, observed-state routes', () => {
  it('reads the cluster status and observed objects with their filters', async () => {
    const { calls, fetchApi } = fakeFetch(
      200,
      JSON.stringify({ informersEnabled: true, items: [] }),
    );
    const client = new KubeaiClient({ discoveryApi, fetchApi });
    expect(await client.getClustersStatus({ token: 't' })).toEqual({
      informersEnabled: true,
      items: [],
    });
    await client.listObservedObjects({
      kind: 'InferenceService',
      discovered: true,
      limit: 10,
    });
    expect(calls.map(c => c.url)).toEqual([
      'https://portal.example.com/api/kubeai/clusters/status',
      'https://portal.example.com/api/kubeai/observed/objects?kind=InferenceService&discovered=true&limit=10',
    ]);
    expect(calls[0].init?.headers).toEqual({ Authorization: 'Bearer t' });
  });

  it('reads run logs as text, follows them as a stream, and throws ResponseError on errors', async () => {
    const logs = fakeFetch(200, 'a\nb\n', 'text/plain');
    const client = new KubeaiClient({
      discoveryApi,
      fetchApi: logs.fetchApi,
    });
    expect(
      await client.getRunLogs('3b241101-e2bb-4255-8caf-4136c566a962', {
        tail: 2,
      }),
    ).toBe('a\nb\n');
    const stream = await client.followRunLogs(
      '3b241101-e2bb-4255-8caf-4136c566a962',
    );
    expect(await new Response(stream).text()).toBe('a\nb\n');
    expect(logs.calls[1].url).toBe(
      'https://portal.example.com/api/kubeai/runs/3b241101-e2bb-4255-8caf-4136c566a962/logs?follow=true',
    );

    const denied = fakeFetch(
      403,
      JSON.stringify({
        error: {
          name: 'NotAllowedError',
          message: 'kubeai.run.logs.read denied',
        },
        response: { statusCode: 403 },
      }),
    );
    const deniedClient = new KubeaiClient({
      discoveryApi,
      fetchApi: denied.fetchApi,
    });
    const error = await deniedClient.getRunLogs('x').catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(403);
    expect(kubeaiRunLogsReadPermission).toMatchObject({
      name: 'kubeai.run.logs.read',
      type: 'basic',
    });
  });
});
