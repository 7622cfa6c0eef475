/**
 * Publishes the InferenceServices the KubeAI cluster informers *discovered* — created without the
 * portal, but serving an artifact that is a registered model version — as catalog
 * `InferenceService` entities, so the catalog shows what really runs. Off by default
 * (`kubeai.discovery.entityProvider.enabled: true` turns it on).
 *
 * It lists `GET /api/kubeai/observed/objects?discovered=true` with the module's own service
 * credentials at start-up and on a schedule, and replaces everything it provides (a `full`
 * mutation): services deleted from their cluster, or no longer serving a registered artifact,
 * leave the catalog with the next refresh.
 *
 * Entity: `inferenceservice:default/<cluster>.<namespace>.<name>` (the ref lineage uses for the
 * discovered node), `spec.model` / `spec.modelVersion` the registered version it serves,
 * `spec.deployment` where it runs, annotations `kubeai.io/discovered: "true"`,
 * `kubeai.io/cluster`, `kubeai.io/namespace`, and the location `kubeai-discovered:<cluster>/<namespace>/<name>`.
 */
import type {
  AuthService,
  LoggerService,
  RootConfigService,
  SchedulerService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  type Entity,
} from '@backstage/catalog-model';
import type {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import {
  ANNOTATION_KUBEAI_CLUSTER,
  ANNOTATION_KUBEAI_NAMESPACE,
  KUBEAI_API_VERSION,
  MODEL_FORMATS,
  validateInferenceServiceEntity,
  type KubeaiApi,
  type ObservedObject,
} from '@kubeai/plugin-kubeai-common';
import { kubeaiToken, listAll, scheduleRefresh } from './refresh';

/** Location type of the discovered entities. */
export const KUBEAI_DISCOVERED_LOCATION_TYPE = 'kubeai-discovered';
/** Annotation marking a discovered entity. */
export const ANNOTATION_KUBEAI_DISCOVERED = 'kubeai.io/discovered';

/** Options of {@link DiscoveredInferenceServiceProvider}. */
export interface DiscoveredInferenceServiceProviderOptions {
  /** The observed-state API (a `KubeaiClient` with the discovery service). */
  client: Pick<KubeaiApi, 'listObservedObjects'>;
  auth: AuthService;
  logger: LoggerService;
  scheduler?: SchedulerService;
  /** Refresh schedule; default every minute, first run 15 seconds after start-up. */
  schedule?: SchedulerServiceTaskScheduleDefinition;
  /** `spec.owner` of the entities (default `group:default/kubeai-discovered`). */
  owner?: string;
  /** `spec.lifecycle` of the entities (default `production`: it serves). */
  lifecycle?: 'experimental' | 'production' | 'deprecated';
}

/** `kubeai.discovery.entityProvider` config; undefined when not enabled. */
export function readDiscoveredProviderConfig(config: RootConfigService):
  | {
      owner?: string;
      lifecycle?: DiscoveredInferenceServiceProviderOptions['lifecycle'];
      frequencySeconds?: number;
    }
  | undefined {
  const c = config.getOptionalConfig('kubeai.discovery.entityProvider');
  if (!c?.getOptionalBoolean('enabled')) return undefined;
  return {
    owner: c.getOptionalString('owner'),
    lifecycle: c.getOptionalString('lifecycle') as
      | DiscoveredInferenceServiceProviderOptions['lifecycle']
      | undefined,
    frequencySeconds: c.getOptionalNumber('frequencySeconds'),
  };
}

export class DiscoveredInferenceServiceProvider implements EntityProvider {
  readonly #options: DiscoveredInferenceServiceProviderOptions;
  #connection?: EntityProviderConnection;

  constructor(options: DiscoveredInferenceServiceProviderOptions) {
    this.#options = options;
  }

  getProviderName(): string {
    return 'kubeai-discovered-inference-services';
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.#connection = connection;
    await scheduleRefresh({
      scheduler: this.#options.scheduler,
      providerName: this.getProviderName(),
      defaults: {
        frequency: { minutes: 1 },
        timeout: { minutes: 2 },
        initialDelay: { seconds: 15 },
      },
      schedule: this.#options.schedule,
      logger: this.#options.logger,
      what: 'the discovered InferenceServices',
      refresh: () => this.refresh(),
    });
  }

  /** Replaces everything this provider published with the services discovered now. */
  async refresh(): Promise<number> {
    if (!this.#connection) {
      throw new Error(`${this.getProviderName()} is not connected yet`);
    }
    const token = await kubeaiToken(this.#options.auth);
    const objects = await listAll((offset, limit) =>
      this.#options.client.listObservedObjects(
        { discovered: true, limit, offset },
        { token },
      ),
    );
    const entities: { entity: Entity; locationKey: string }[] = [];
    for (const object of objects) {
      const entity = this.toEntity(object);
      if (!entity) continue;
      try {
        validateInferenceServiceEntity(entity);
      } catch (error) {
        this.#options.logger.warn(
          `kubeai: not publishing discovered InferenceService ${object.namespace}/${object.name} of cluster ${object.cluster}: ${error}`,
        );
        continue;
      }
      entities.push({
        entity,
        locationKey: entity.metadata.annotations![ANNOTATION_LOCATION],
      });
    }
    await this.#connection.applyMutation({ type: 'full', entities });
    this.#options.logger.info(
      `kubeai: published ${entities.length} discovered InferenceServices to the catalog`,
    );
    return entities.length;
  }

  /** The catalog entity of a discovered service (undefined without a discovered version). */
  toEntity(object: ObservedObject): Entity | undefined {
    if (!object.discovered || !object.entityRef) return undefined;
    const [, namespaceAndName] = object.entityRef.split(':');
    const [namespace, name] = namespaceAndName.split('/');
    const location = `${KUBEAI_DISCOVERED_LOCATION_TYPE}:${object.cluster}/${object.namespace}/${object.name}`;
    const format = String(
      (object.details as { modelFormat?: unknown }).modelFormat ?? '',
    ).toLocaleLowerCase('en-US');
    const { modelRef, version } = object.discovered;
    return {
      apiVersion: KUBEAI_API_VERSION,
      kind: 'InferenceService',
      metadata: {
        name,
        namespace,
        title: `${object.name} (${object.cluster}/${object.namespace})`,
        description: `Discovered in cluster ${object.cluster}: an InferenceService not created by the portal that serves ${modelRef} version ${version}.`,
        tags: ['discovered'],
        annotations: {
          [ANNOTATION_KUBEAI_DISCOVERED]: 'true',
          [ANNOTATION_KUBEAI_CLUSTER]: object.cluster,
          [ANNOTATION_KUBEAI_NAMESPACE]: object.namespace,
          [ANNOTATION_LOCATION]: location,
          [ANNOTATION_ORIGIN_LOCATION]: location,
        },
      },
      spec: {
        owner: this.#options.owner ?? 'group:default/kubeai-discovered',
        lifecycle: this.#options.lifecycle ?? 'production',
        model: modelRef,
        modelVersion: version,
        ...((MODEL_FORMATS as readonly string[]).includes(format)
          ? { runtime: { modelFormat: format } }
          : {}),
        deployment: {
          cluster: object.cluster,
          namespace: object.namespace,
          name: object.name,
        },
      },
    };
  }
}
