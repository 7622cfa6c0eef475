/**
 * Publishes the catalog entities created through the portal — Datasets and InferenceServices made
 * by `POST /api/kubeai/datasets` and `POST /api/kubeai/inference-services` with `catalogEntity`,
 * e.g. by the dataset and inference-service templates — to the catalog.
 *
 * There is no git repository to register a `catalog-info.yaml` in, so the KubeAI backend stores
 * these entities itself (`GET /api/kubeai/catalog-entities`) and this provider:
 * - replaces everything it provides with what the backend lists (a `full` mutation) at start-up
 *   and on a schedule (every 5 minutes by default), with the module's own service credentials;
 * - adds an entity right away (a `delta` mutation) when the backend announces it on the events
 *   service (topic `kubeai.portal-entities`), so the catalog page exists seconds after the
 *   template ran, and removes one right away when its object was deleted through the portal.
 *
 * Entities get `backstage.io/managed-by-location` and `…-origin-location` `kubeai-portal:<ref>`.
 */
import type {
  AuthService,
  LoggerService,
  SchedulerService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import type {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import type { KubeaiApi } from '@kubeai/plugin-kubeai-common';
import { KUBEAI_PORTAL_LOCATION_TYPE } from '@kubeai/plugin-kubeai-node';
import { kubeaiToken, listAll, scheduleRefresh } from './refresh';

/** Options of {@link KubeaiPortalEntityProvider}. */
export interface KubeaiPortalEntityProviderOptions {
  /** The KubeAI API (a `KubeaiClient` with the discovery service). */
  client: Pick<KubeaiApi, 'listPortalEntities'>;
  auth: AuthService;
  logger: LoggerService;
  scheduler?: SchedulerService;
  /** Full refresh schedule; default every 5 minutes, first run 5 seconds after start-up. */
  schedule?: SchedulerServiceTaskScheduleDefinition;
}

export class KubeaiPortalEntityProvider implements EntityProvider {
  readonly #options: KubeaiPortalEntityProviderOptions;
  #connection?: EntityProviderConnection;

  constructor(options: KubeaiPortalEntityProviderOptions) {
    this.#options = options;
  }

  getProviderName(): string {
    return 'kubeai-portal-entities';
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.#connection = connection;
    await scheduleRefresh({
      scheduler: this.#options.scheduler,
      providerName: this.getProviderName(),
      defaults: {
        frequency: { minutes: 5 },
        timeout: { minutes: 2 },
        initialDelay: { seconds: 5 },
      },
      schedule: this.#options.schedule,
      logger: this.#options.logger,
      what: 'the portal-created entities',
      refresh: () => this.refresh(),
    });
  }

  /** Replaces everything this provider published with what the KubeAI backend lists. */
  async refresh(): Promise<number> {
    const connection = this.#requireConnection();
    const token = await kubeaiToken(this.#options.auth);
    const entities = (await listAll((offset, limit) =>
      this.#options.client.listPortalEntities({ limit, offset }, { token }),
    )) as unknown as Entity[];
    await connection.applyMutation({
      type: 'full',
      entities: entities.map(e => this.#deferred(e)),
    });
    this.#options.logger.info(
      `kubeai: published ${entities.length} portal-created entities to the catalog`,
    );
    return entities.length;
  }

  /** Adds (or replaces) one entity now; called for each `kubeai.portal-entities` event. */
  async addEntity(entity: Entity): Promise<void> {
    if (!this.#connection) {
      return; // the first full refresh will bring it
    }
    await this.#connection.applyMutation({
      type: 'delta',
      added: [this.#deferred(entity)],
      removed: [],
    });
    this.#options.logger.info(
      `kubeai: published ${stringifyEntityRef(entity)} to the catalog`,
    );
  }

  /** Removes one entity now; called for each `kubeai.portal-entities` removal event. */
  async removeEntity(entityRef: string): Promise<void> {
    if (!this.#connection) {
      return; // the first full refresh will not bring it
    }
    const ref = entityRef.toLocaleLowerCase('en-US');
    await this.#connection.applyMutation({
      type: 'delta',
      added: [],
      removed: [
        {
          entityRef: ref,
          locationKey: `${KUBEAI_PORTAL_LOCATION_TYPE}:${ref}`,
        },
      ],
    });
    this.#options.logger.info(`kubeai: removed ${ref} from the catalog`);
  }

  #deferred(entity: Entity) {
    const ref = stringifyEntityRef(entity).toLocaleLowerCase('en-US');
    const location = `${KUBEAI_PORTAL_LOCATION_TYPE}:${ref}`;
    return {
      entity: {
        ...entity,
        metadata: {
          ...entity.metadata,
          annotations: {
            ...entity.metadata.annotations,
            [ANNOTATION_LOCATION]: location,
            [ANNOTATION_ORIGIN_LOCATION]: location,
          },
        },
      },
      locationKey: `${KUBEAI_PORTAL_LOCATION_TYPE}:${ref}`,
    };
  }

  #requireConnection(): EntityProviderConnection {
    if (!this.#connection) {
      throw new Error(`${this.getProviderName()} is not connected yet`);
    }
    return this.#connection;
  }
}
