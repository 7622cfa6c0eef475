/*
 * The backend of the sync benchmark, in a process of its own so that its memory can be measured:
 * the kubeai plugin (cluster informers with their default settings, the registry on a SQLite file,
 * the HTTP API) in startTestBackend. Reads its config from KUBEAI_BENCH_BACKEND (JSON
 * `{ config, dbFile }`), prints `READY <port>` once it listens, and stops on SIGTERM.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import knexFactory from 'knex';
import kubeaiPlugin from '../../plugins/kubeai-backend/src';

async function main() {
  const { config, dbFile } = JSON.parse(
    process.env.KUBEAI_BENCH_BACKEND ?? '{}',
  );
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: dbFile },
    useNullAsDefault: true,
  });
  const backend = await startTestBackend({
    features: [
      kubeaiPlugin,
      mockServices.database.factory({ knex }),
      catalogServiceMock.factory({ entities: [] }),
      mockServices.rootConfig.factory({ data: config }),
    ],
  });
  const address = backend.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`READY ${port}\n`);
  if (process.env.KUBEAI_BENCH_MEMLOG) {
    setInterval(() => {
      const m = process.memoryUsage();
      const f = (x: number) => Math.round(x / 1048576);
      process.stderr.write(
        `mem rss=${f(m.rss)} heapTotal=${f(m.heapTotal)} heapUsed=${f(
          m.heapUsed,
        )} external=${f(m.external)} arrayBuffers=${f(m.arrayBuffers)}\n`,
      );
    }, 2000).unref();
  }
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
