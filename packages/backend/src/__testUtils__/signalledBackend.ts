/*
 * A backend process for stopSignals.test.ts: Backstage's own backend (createBackend, whose SIGINT /
 * SIGTERM handler stops it; on a free loopback port, logging off) with one plugin whose stop takes
 * STOP_MS; it prints `ready`, and `stopped` when its stop finished. With
 * `--first-signal-only` it calls stopOnFirstSignal() as packages/backend/src/index.ts does.
 */
import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { createBackend } from '@backstage/backend-defaults';
import { mockServices } from '@backstage/backend-test-utils';
import { stopOnFirstSignal } from '../stopSignals';

const STOP_MS = Number(process.env.STOP_MS ?? 500);

const slowStop = createBackendPlugin({
  pluginId: 'slowstop',
  register(env) {
    env.registerInit({
      deps: { lifecycle: coreServices.lifecycle },
      async init({ lifecycle }) {
        lifecycle.addStartupHook(() => {
          process.stdout.write('ready\n');
        });
        lifecycle.addShutdownHook(async () => {
          await new Promise(resolve => setTimeout(resolve, STOP_MS));
          process.stdout.write('stopped\n');
        });
      },
    });
  },
});

const backend = createBackend();
backend.add(
  mockServices.rootConfig.factory({
    data: {
      backend: {
        baseUrl: 'http://localhost',
        listen: { port: 0, host: '127.0.0.1' },
        database: { client: 'better-sqlite3', connection: ':memory:' },
      },
    },
  }),
);
backend.add(mockServices.rootLogger.factory({ level: 'none' }));
backend.add(slowStop);
backend.start();
if (process.argv.includes('--first-signal-only')) stopOnFirstSignal();
