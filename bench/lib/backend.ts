/*
 * The real kubeai backend plugin on a benchmark's database (startTestBackend, no catalog
 * entities, informers off unless the config says otherwise), on a free port.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { Knex } from 'knex';
import kubeaiPlugin from '../../plugins/kubeai-backend/src';

export async function startBenchBackend(
  knex: Knex,
  kubeai: Record<string, unknown>,
  config: Record<string, unknown> = {},
) {
  const backend = await startTestBackend({
    features: [
      kubeaiPlugin,
      mockServices.database.factory({ knex }),
      catalogServiceMock.factory({ entities: [] }),
      mockServices.rootConfig.factory({
        data: {
          kubeai: { informers: { enabled: false }, ...kubeai },
          ...config,
        },
      }),
    ],
  });
  const address = backend.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { backend, port };
}
