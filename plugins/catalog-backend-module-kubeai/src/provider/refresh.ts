import type {
  AuthService,
  LoggerService,
  SchedulerService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { KUBEAI_PLUGIN_ID } from '@kubeai/plugin-kubeai-common';

/**
 * Runs an entity provider's full refresh on a schedule (`schedule` overrides `defaults`). A failed
 * refresh is logged and tried again at the next run: the catalog keeps what it has meanwhile.
 */
export async function scheduleRefresh(options: {
  scheduler?: SchedulerService;
  providerName: string;
  defaults: SchedulerServiceTaskScheduleDefinition;
  schedule?: SchedulerServiceTaskScheduleDefinition;
  logger: LoggerService;
  /** What could not be read, for the log: "the discovered InferenceServices". */
  what: string;
  refresh: () => Promise<unknown>;
}): Promise<void> {
  const { scheduler, logger } = options;
  if (!scheduler) return;
  await scheduler.scheduleTask({
    id: `${options.providerName}:refresh`,
    ...options.defaults,
    ...options.schedule,
    fn: async () => {
      try {
        await options.refresh();
      } catch (error) {
        logger.warn(
          `kubeai: could not read ${options.what} from the KubeAI backend: ${error}`,
        );
      }
    },
  });
}

/** A token for the KubeAI backend, with the catalog module's own service credentials. */
export async function kubeaiToken(auth: AuthService): Promise<string> {
  const { token } = await auth.getPluginRequestToken({
    onBehalfOf: await auth.getOwnServiceCredentials(),
    targetPluginId: KUBEAI_PLUGIN_ID,
  });
  return token;
}

/** Every item of a paged KubeAI list (`limit` / `offset`, `totalItems`). */
export async function listAll<T>(
  page: (
    offset: number,
    limit: number,
  ) => Promise<{ items: T[]; totalItems: number }>,
  limit = 1000,
): Promise<T[]> {
  const items: T[] = [];
  for (let offset = 0; ; offset += limit) {
    const result = await page(offset, limit);
    items.push(...result.items);
    if (result.items.length < limit || items.length >= result.totalItems) {
      return items;
    }
  }
}
