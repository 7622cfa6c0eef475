/*
 * The cluster gateway in a pod: its service-account token comes from the projected file, which the
 * kubelet rotates; the gateway re-reads it as client-go does. Against the local kube-apiserver.
 */
import { ConfigReader } from '@backstage/config';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localClusterState } from '../__testUtils__/localCluster';
import { ClusterGateway } from './ClusterGateway';
import { readClusterConnections } from './config';

jest.setTimeout(60_000);

describe('an in-cluster service-account token file', () => {
  const state = localClusterState();
  afterEach(() => jest.useRealTimers());

  it('is re-read after it rotates (every 60 s, as client-go), reads and streams alike', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-token-'));
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, state.adminToken);
    try {
      // a pod's cluster entry: no serviceAccountToken, the kubelet's projected token file
      const connections = readClusterConnections(
        new ConfigReader({
          kubernetes: {
            clusterLocatorMethods: [
              {
                type: 'config',
                clusters: [
                  {
                    name: 'pod',
                    url: state.server,
                    caData: fs.readFileSync(state.caFile!).toString('base64'),
                  },
                ],
              },
            ],
          },
        }),
        undefined,
        { inClusterTokenFile: tokenFile },
      );
      expect(connections.map(c => [c.name, c.tokenFile])).toEqual([
        ['pod', tokenFile],
      ]);
      const quiet = () => {};
      const gateway = new ClusterGateway(connections, {
        logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
        retry: { retries: 0 },
      });
      expect(await gateway.namespaces('pod')).toContain('default');

      // the kubelet writes a token the apiserver does not accept (revoked / expired); a minute on
      jest.useFakeTimers({
        doNotFake: [
          'nextTick',
          'setImmediate',
          'clearImmediate',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'queueMicrotask',
          'hrtime',
          'performance',
        ],
      });
      fs.writeFileSync(tokenFile, 'revoked-token');
      jest.setSystemTime(Date.now() + 61_000);
      const refused = await gateway
        .list('pod', {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          namespace: 'default',
        })
        .then(
          () => undefined,
          error => error,
        );
      expect(refused?.message).toMatch(/rejected kubeai's credentials \(401\)/);

      // and the rotated, valid one a minute later: reads and watches work again, no restart
      fs.writeFileSync(tokenFile, state.adminToken);
      jest.setSystemTime(Date.now() + 61_000);
      expect(
        await gateway.list('pod', {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          namespace: 'default',
        }),
      ).toEqual(expect.any(Array));
      const watch = await gateway.stream(
        'pod',
        '/api/v1/namespaces/default/configmaps',
        { watch: true, timeoutSeconds: 1 },
      );
      expect(watch.statusCode).toBe(200);
      watch.destroy();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
