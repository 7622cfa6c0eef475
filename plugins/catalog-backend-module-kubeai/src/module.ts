import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { KubeaiClient } from '@kubeai/plugin-kubeai-common';
import { KUBEAI_PORTAL_ENTITY_TOPIC } from '@kubeai/plugin-kubeai-node';
import { KubeaiEntitiesProcessor } from './processor';
import { KubeaiPortalEntityProvider } from './provider';
import {
  DiscoveredInferenceServiceProvider,
  readDiscoveredProviderConfig,
} from './provider/discoveredInferenceServiceProvider';

/**
 * Validates KubeAI entities (Model, Dataset, InferenceService) and emits their relations.
 * Uses the stable processor API, so the built-in kinds keep their own processor.
 *
 * Also publishes the entities created through the portal (Datasets and InferenceServices made by
 * the KubeAI API with `catalogEntity`) with {@link KubeaiPortalEntityProvider}.
 */
export const catalogModuleKubeai = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'kubeai',
  register(reg) {
    reg.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
        events: eventsServiceRef,
        config: coreServices.rootConfig,
      },
      async init({
        catalog,
        auth,
        discovery,
        logger,
        scheduler,
        events,
        config,
      }) {
        catalog.addProcessor(new KubeaiEntitiesProcessor());

        const provider = new KubeaiPortalEntityProvider({
          client: new KubeaiClient({ discoveryApi: discovery }),
          auth,
          logger,
          scheduler,
        });
        catalog.addEntityProvider(provider);

        // InferenceServices the cluster informers discovered (kubeai.discovery.entityProvider)
        const discovered = readDiscoveredProviderConfig(config);
        if (discovered) {
          catalog.addEntityProvider(
            new DiscoveredInferenceServiceProvider({
              client: new KubeaiClient({ discoveryApi: discovery }),
              auth,
              logger,
              scheduler,
              owner: discovered.owner,
              lifecycle: discovered.lifecycle,
              schedule: discovered.frequencySeconds
                ? {
                    frequency: { seconds: discovered.frequencySeconds },
                    timeout: { minutes: 2 },
                  }
                : undefined,
            }),
          );
        }
        await events.subscribe({
          id: 'kubeai-portal-entity-provider',
          topics: [KUBEAI_PORTAL_ENTITY_TOPIC],
          async onEvent({ eventPayload }) {
            const { entity, removedEntityRef } = (eventPayload ?? {}) as {
              entity?: any;
              removedEntityRef?: unknown;
            };
            if (entity?.kind && entity?.metadata?.name) {
              await provider.addEntity(entity);
            } else if (typeof removedEntityRef === 'string') {
              await provider.removeEntity(removedEntityRef);
            }
          },
        });
      },
    });
  },
});
