/*
 * The backend of the end-to-end suites: the scaffolder with this module, the catalog (the
 * templates of templates/, the KubeAI catalog module, the suite's entities) and the KubeAI plugin
 * against the local kube-apiserver; plus starting a template's task and waiting for it.
 */
import { createBackendModule } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { eventsServiceFactory } from '@backstage/plugin-events-node';
import catalogModuleKubeai from '@kubeai/plugin-catalog-backend-module-kubeai';
// the end-to-end tests run the KubeAI backend plugin the actions call
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import kubeaiPlugin from '@kubeai/plugin-kubeai-backend';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { localKubernetesConfig } from './localCluster';
import { scaffolderModuleKubeai } from '../module';

const CATALOG_LOAD_TIMEOUT = 60_000;
const templatesDir = path.resolve(__dirname, '../../../../templates');

/** Retries `check` until it passes or `timeoutMs` is over (then its last error). */
export async function eventually<T>(
  check: () => Promise<T>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise(resolve => setTimeout(resolve, 250));
    }
  }
}

/**
 * Starts the backend with `entities` (catalog YAML) besides the templates, once the catalog has
 * the template `kubeai-notebook` and every ref of `waitFor`.
 */
export async function startScaffolderBackend(options: {
  entities: string;
  waitFor: string[];
}) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-e2e-'));
  const entitiesFile = path.join(scratch, 'entities.yaml');
  fs.writeFileSync(entitiesFile, options.entities);
  /** The catalog's processing errors, to say why an entity does not show up. */
  const processingErrors: string[] = [];
  const errorCollector = createBackendModule({
    pluginId: 'catalog',
    moduleId: 'test-error-collector',
    register(reg) {
      reg.registerInit({
        deps: { catalog: catalogProcessingExtensionPoint },
        async init({ catalog }) {
          catalog.setOnProcessingErrorHandler(
            ({ unprocessedEntity, errors }) => {
              for (const error of errors) {
                processingErrors.push(
                  `${stringifyEntityRef(unprocessedEntity)}: ${error.message}`,
                );
              }
            },
          );
        },
      });
    },
  });
  const backend = await startTestBackend({
    features: [
      import('@backstage/plugin-scaffolder-backend'),
      scaffolderModuleKubeai,
      import('@backstage/plugin-catalog-backend'),
      import(
        '@backstage/plugin-catalog-backend-module-scaffolder-entity-model'
      ),
      catalogModuleKubeai,
      errorCollector,
      kubeaiPlugin,
      // the real events service (one bus for all plugins), as backend-defaults has it
      eventsServiceFactory,
      mockServices.rootConfig.factory({
        data: {
          backend: { workingDirectory: scratch },
          catalog: {
            rules: [
              {
                allow: [
                  'Template',
                  'Location',
                  'Group',
                  'Model',
                  'Dataset',
                  'InferenceService',
                ],
              },
            ],
            locations: [
              { type: 'file', target: path.join(templatesDir, 'all.yaml') },
              { type: 'file', target: entitiesFile },
            ],
          },
          kubeai: { informers: { enabled: false } },
          kubernetes: localKubernetesConfig(),
        },
      }),
    ],
  });
  const server = backend.server;
  // the catalog processes asynchronously (a backend that never gets there is stopped)
  await eventually(async () => {
    for (const ref of [
      'template:default/kubeai-notebook',
      ...options.waitFor,
    ]) {
      const [kind, rest] = ref.split(':');
      const res = await request(server).get(
        `/api/catalog/entities/by-name/${kind}/${rest}`,
      );
      if (res.status !== 200) {
        const all = await request(server).get('/api/catalog/entities');
        throw new Error(
          `${ref}: ${res.status}; the catalog has ${(all.body ?? [])
            .map((e: any) => stringifyEntityRef(e))
            .join(', ')}; errors: ${processingErrors.join('; ')}`,
        );
      }
    }
  }, CATALOG_LOAD_TIMEOUT).catch(async error => {
    await backend.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
    throw error;
  });

  /** Starts a task of a catalog template and waits for it to finish. */
  async function runTask(template: string, values: Record<string, unknown>) {
    const created = await request(server)
      .post('/api/scaffolder/v2/tasks')
      .send({ templateRef: `template:default/${template}`, values });
    if (created.status !== 201) {
      throw new Error(`task of ${template}: ${created.status} ${created.text}`);
    }
    const task = await eventually(async () => {
      const res = await request(server).get(
        `/api/scaffolder/v2/tasks/${created.body.id}`,
      );
      if (!['completed', 'failed', 'cancelled'].includes(res.body.status)) {
        throw new Error(`task ${res.body.status}`);
      }
      return res.body;
    });
    if (task.status !== 'completed') {
      const events = await request(server).get(
        `/api/scaffolder/v2/tasks/${created.body.id}/events`,
      );
      throw new Error(
        `task ${task.status}: ${events.body
          .map((e: any) => e.body?.message)
          .filter(Boolean)
          .join('\n')}`,
      );
    }
    return task;
  }

  return {
    server,
    templatesDir,
    processingErrors,
    runTask,
    async stop() {
      await backend.stop();
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
}
