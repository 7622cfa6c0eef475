/*
 * Run logs through the cluster informers against the real local kube-apiserver
 * (`yarn cluster:start`), through the plugin's HTTP API: the refusals (unknown run, no pods, pods
 * without a node or a kubelet, a denying permission policy) and the log lines of a stand-in
 * kubelet, followed until the client leaves.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { Knex } from 'knex';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { kubeaiPlugin } from '../plugin';
import request from 'supertest';
import { waitFor } from './__testUtils__/kube';
import { informersSuite } from './__testUtils__/informersSuite';

jest.setTimeout(180_000);

const {
  suffix,
  ns,
  kube,
  entities,
  backendConfig,
  startBackend,
  paths,
  created,
  create,
  container,
  job,
  setUp,
  tearDown,
} = informersSuite('inflogs');

describe('cluster informers on the local control plane', () => {
  let knex: Knex;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  const api = () => request(backend.server);

  beforeAll(async () => {
    ({ knex, backend } = await setUp());
  });

  afterAll(() => tearDown(backend));

  describe('run logs', () => {
    let runId: string;
    beforeAll(async () => {
      const run = await api()
        .post('/api/kubeai/runs')
        .send({
          kind: 'training',
          cluster: 'local',
          namespace: ns,
          name: 'logs-a',
        })
        .expect(201);
      runId = run.body.id;
      await create(paths.jobs, job('logs-a', { runId }));
      await waitFor(
        async () => (await api().get(`/api/kubeai/runs/${runId}`)).body.uid,
        5000,
        'logs-a linked',
      );
    });

    it('answers 404 for an unknown run and for a run without pods', async () => {
      const unknown = await api().get(
        '/api/kubeai/runs/00000000-0000-4000-8000-000000000000/logs',
      );
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.message).toBe(
        'run 00000000-0000-4000-8000-000000000000 not found',
      );
      const none = await api().get(`/api/kubeai/runs/${runId}/logs`);
      expect(none.status).toBe(404);
      expect(none.body.error.message).toBe(
        `run ${runId} (Job ${ns}/logs-a in cluster local) has no pods: none matches job-name=logs-a or batch.kubernetes.io/job-name=logs-a or kubeai.io/run=${runId}`,
      );
    });

    it('validates tail by the spec', async () => {
      for (const tail of ['0', '10001', 'abc']) {
        const res = await api().get(
          `/api/kubeai/runs/${runId}/logs?tail=${tail}`,
        );
        expect(res.status).toBe(400);
        expect(res.body.error.message).toContain('request/query/tail');
      }
    });

    it('names the reason when a pod cannot give logs: not scheduled, node unknown, kubelet unreachable', async () => {
      const pod = (name: string, nodeName?: string) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns, labels: { 'job-name': 'logs-a' } },
        spec: {
          ...(nodeName ? { nodeName } : {}),
          restartPolicy: 'Never',
          containers: [container],
        },
      });
      await create(paths.pods, pod('logs-a-pending'));
      const pending = await api().get(
        `/api/kubeai/runs/${runId}/logs?pod=logs-a-pending`,
      );
      expect(pending.status).toBe(409);
      expect(pending.body.error.message).toBe(
        'pod logs-a-pending is not scheduled to a node yet (phase Pending): it has no logs',
      );

      const node = `kubeai-fake-node-${suffix}`;
      await create(paths.pods, pod('logs-a-lost', node));
      const lost = await api().get(
        `/api/kubeai/runs/${runId}/logs?pod=logs-a-lost&tail=5`,
      );
      expect(lost.status).toBe(503);
      expect(lost.body.error.message).toBe(
        `cannot read the logs of pod ${ns}/logs-a-lost in cluster local: its node ${node} is not registered with the apiserver (no kubelet answers for it)`,
      );

      // a registered node whose kubelet does not answer (nothing listens on port 1)
      const node2 = `kubeai-fake-node2-${suffix}`;
      await kube.create('/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: node2 },
      });
      created.push(`/api/v1/nodes/${node2}`);
      await kube.patchStatus(`/api/v1/nodes/${node2}`, {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: 1 } },
      });
      await create(paths.pods, pod('logs-a-kubelet', node2));
      const kubelet = await api().get(
        `/api/kubeai/runs/${runId}/logs?pod=logs-a-kubelet&tail=5&follow=true`,
      );
      expect(kubelet.status).toBe(503);
      expect(kubelet.body.error.message).toMatch(
        new RegExp(
          `^cannot read the logs of pod ${ns}/logs-a-kubelet in cluster local: the kubelet of node ${node2} is unreachable \\(.*connection refused\\)$`,
        ),
      );
      const unknownPod = await api().get(
        `/api/kubeai/runs/${runId}/logs?pod=nope`,
      );
      expect(unknownPod.status).toBe(404);
    });

    it("streams the log lines of the run's pods, as a kubelet gives them (a stand-in kubelet)", async () => {
      // The apiserver proxies pod logs to https://<node address>:<kubelet port>/containerLogs/…;
      // no kubelet runs here, so the test serves that endpoint itself, as it plays the controllers.
      const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-kubelet-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=kubelet',
          '-keyout',
          path.join(certDir, 'key.pem'),
          '-out',
          path.join(certDir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const lines = Array.from({ length: 10 }, (_, i) => `step ${i + 1}`);
      const requests: string[] = [];
      let followClosed = false;
      const kubelet = https.createServer(
        {
          key: fs.readFileSync(path.join(certDir, 'key.pem')),
          cert: fs.readFileSync(path.join(certDir, 'cert.pem')),
        },
        (req, res) => {
          requests.push(req.url ?? '');
          const url = new URL(req.url ?? '/', 'https://kubelet');
          const pod = url.pathname.split('/')[3];
          const tail = Number(
            url.searchParams.get('tailLines') ?? lines.length,
          );
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          for (const line of lines.slice(-tail)) res.write(`${pod}: ${line}\n`);
          if (url.searchParams.get('follow') !== 'true') {
            res.end();
            return;
          }
          let n = 0;
          const timer = setInterval(
            () => res.write(`${pod}: live ${++n}\n`),
            50,
          );
          res.on('close', () => {
            clearInterval(timer);
            followClosed = true;
          });
        },
      );
      await new Promise<void>(r => kubelet.listen(0, '127.0.0.1', () => r()));
      const port = (kubelet.address() as { port: number }).port;
      const node = `kubeai-kubelet-${suffix}`;
      try {
        await kube.create('/api/v1/nodes', {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: node },
        });
        created.push(`/api/v1/nodes/${node}`);
        await kube.patchStatus(`/api/v1/nodes/${node}`, {
          addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
          daemonEndpoints: { kubeletEndpoint: { Port: port } },
        });
        const run = await api()
          .post('/api/kubeai/runs')
          .send({
            kind: 'training',
            cluster: 'local',
            namespace: ns,
            name: 'logs-b',
          })
          .expect(201);
        await create(paths.jobs, job('logs-b', { runId: run.body.id }));
        for (const name of ['logs-b-0', 'logs-b-1']) {
          await create(paths.pods, {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name, namespace: ns, labels: { 'job-name': 'logs-b' } },
            spec: {
              nodeName: node,
              restartPolicy: 'Never',
              containers: [container],
            },
          });
        }
        await waitFor(
          async () =>
            (
              await api().get(`/api/kubeai/runs/${run.body.id}`)
            ).body.uid,
          5000,
          'logs-b linked',
        );

        const one = await api().get(
          `/api/kubeai/runs/${run.body.id}/logs?pod=logs-b-0&tail=3`,
        );
        expect(one.status).toBe(200);
        expect(one.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(one.text).toBe(
          'logs-b-0: step 8\nlogs-b-0: step 9\nlogs-b-0: step 10\n',
        );
        expect(requests).toContain(
          `/containerLogs/${ns}/logs-b-0/main?tailLines=3`,
        );

        const both = await api().get(
          `/api/kubeai/runs/${run.body.id}/logs?tail=1`,
        );
        expect(both.status).toBe(200);
        expect(both.text).toBe(
          '[logs-b-0] logs-b-0: step 10\n[logs-b-1] logs-b-1: step 10\n',
        );

        // follow: lines keep coming until the client goes away, then the kubelet stream is closed
        const address = backend.server.address() as { port: number };
        const received = await new Promise<string>((resolve, reject) => {
          let text = '';
          const req = http.get(
            `http://127.0.0.1:${address.port}/api/kubeai/runs/${run.body.id}/logs?pod=logs-b-1&tail=1&follow=true`,
            res => {
              res.setEncoding('utf8');
              res.on('data', chunk => {
                text += chunk;
                if (text.includes('live 3')) {
                  req.destroy();
                  resolve(text);
                }
              });
            },
          );
          req.on('error', error =>
            text.includes('live 3') ? undefined : reject(error),
          );
        });
        expect(
          received.startsWith('logs-b-1: step 10\nlogs-b-1: live 1\n'),
        ).toBe(true);
        await waitFor(
          async () => followClosed,
          5000,
          'kubelet stream closed after the client left',
        );
        expect(requests).toContain(
          `/containerLogs/${ns}/logs-b-1/main?follow=true&tailLines=1`,
        );
      } finally {
        kubelet.closeAllConnections();
        await new Promise(r => kubelet.close(r));
        fs.rmSync(certDir, { recursive: true, force: true });
      }
    });

    it('answers 403 and nothing else when the permission is denied', async () => {
      const denied = await startTestBackend({
        features: [
          kubeaiPlugin,
          mockServices.database.factory({ knex }),
          catalogServiceMock.factory({ entities }),
          mockServices.rootConfig.factory({
            data: {
              ...backendConfig(),
              kubeai: { informers: { enabled: false } },
            },
          }),
          mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
        ],
      });
      try {
        const res = await request(denied.server).get(
          `/api/kubeai/runs/${runId}/logs?pod=logs-a-kubelet`,
        );
        expect(res.status).toBe(403);
        expect(res.headers['content-type']).toMatch(/application\/json/);
        expect(res.body.error).toEqual({
          name: 'NotAllowedError',
          message: 'kubeai.run.logs.read denied',
        });
        // also for runs that do not exist: no probing through the permission
        const unknown = await request(denied.server).get(
          '/api/kubeai/runs/00000000-0000-4000-8000-000000000000/logs',
        );
        expect(unknown.status).toBe(403);
        const status = await request(denied.server).get(
          '/api/kubeai/clusters/status',
        );
        expect(status.body).toEqual({ informersEnabled: false, items: [] });
      } finally {
        await denied.stop();
      }
    });
  });
});
