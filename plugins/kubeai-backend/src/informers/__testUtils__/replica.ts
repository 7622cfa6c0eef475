/*
 * One replica of the portal's backend in a process of its own (replicas.test.ts, bench/sync):
 * the kubeai plugin in startTestBackend on a shared database. Reads KUBEAI_REPLICA (JSON
 * `{ config, connection, client }`: the root config and the knex client and connection), prints
 * `READY <port>` once it listens, and stops on SIGTERM (a graceful stop hands its Leases over);
 * SIGKILL is a crash.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import knexFactory from 'knex';
import { kubeaiPlugin } from '../../plugin';

async function main() {
  const { config, connection, client, entities } = JSON.parse(
    process.env.KUBEAI_REPLICA ?? '{}',
  );
  const knex = knexFactory({
    client,
    connection,
    useNullAsDefault: true,
    pool: { min: 0, max: 5 },
  });
  const backend = await startTestBackend({
    features: [
      kubeaiPlugin,
      mockServices.database.factory({ knex }),
      catalogServiceMock.factory({ entities: entities ?? [] }),
      mockServices.rootConfig.factory({ data: config }),
    ],
  });
  const address = backend.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`READY ${port}\n`);
  const stop = async () => {
    await backend.stop().catch(() => undefined);
    await knex.destroy().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch(error => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
