/*
 * A portal backend for the tests of agents and other platforms (issue 18): the real permission
 * stack with this repo's policy module (which brings its own permissions service: callers from
 * outside are decided by the policy, ../servicePermissions.ts), the real catalog, the KubeAI plugin
 * against the local control plane, the real actions registry and actions service, and the MCP
 * plugin (@backstage/plugin-mcp-actions-backend). Users call with tokens of ./realAuth.ts; callers
 * from outside with the `backend.auth.externalAccess` tokens of `externalAccess`.
 */
import {
  actionsRegistryServiceFactory,
  actionsServiceFactory,
} from '@backstage/backend-defaults/alpha';
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import type { JsonObject, JsonValue } from '@backstage/config';
import type { AddressInfo } from 'node:net';
import { permissionPolicyModule } from '../permissionPolicy';
import { localKubernetesConfig } from './localCluster';
import type { Knex } from './portalBackend';
import type { realAuth } from './realAuth';

export interface AgentPortalOptions {
  kubeaiDatabase: Knex;
  newDatabase: () => Promise<Knex>;
  identities: ReturnType<typeof realAuth>;
  entitiesFile: string;
  workingDirectory: string;
  /** `backend.auth.externalAccess`. */
  externalAccess: JsonValue[];
  /** `kubeai.tenancy`. */
  tenancy: JsonObject;
  /** `kubeai.cost` (prices, budgets). */
  cost?: JsonObject;
  /** `mcpActions` (the MCP server's name and instructions). */
  mcpActions?: JsonObject;
  /** `backend.actions.filter`. */
  actionsFilter?: JsonObject;
}

/** Starts the portal with the `ownership` policy; `mcpUrl` is its MCP endpoint. */
export async function startAgentPortal(options: AgentPortalOptions) {
  const backend = await startTestBackend({
    features: [
      import('@backstage/plugin-permission-backend'),
      permissionPolicyModule,
      import('@backstage/plugin-catalog-backend'),
      import('@kubeai/plugin-catalog-backend-module-kubeai'),
      import('@kubeai/plugin-kubeai-backend'),
      import('@backstage/plugin-mcp-actions-backend'),
      actionsRegistryServiceFactory,
      actionsServiceFactory,
      ...options.identities.features,
      createServiceFactory({
        service: coreServices.database,
        deps: { plugin: coreServices.pluginMetadata },
        async factory({ plugin }) {
          const client =
            plugin.getId() === 'kubeai'
              ? options.kubeaiDatabase
              : await options.newDatabase();
          return { getClient: async () => client };
        },
      }),
      mockServices.rootConfig.factory({
        data: {
          backend: {
            baseUrl: 'http://localhost:7007',
            workingDirectory: options.workingDirectory,
            auth: { externalAccess: options.externalAccess },
            actions: {
              pluginSources: ['catalog', 'kubeai'],
              ...(options.actionsFilter
                ? { filter: options.actionsFilter }
                : {}),
            },
          },
          ...(options.mcpActions ? { mcpActions: options.mcpActions } : {}),
          permission: { enabled: true, policy: 'ownership' },
          catalog: {
            rules: [
              {
                allow: [
                  'Location',
                  'Group',
                  'User',
                  'Model',
                  'Dataset',
                  'InferenceService',
                ],
              },
            ],
            locations: [{ type: 'file', target: options.entitiesFile }],
          },
          kubeai: {
            registry: { validateResponses: true },
            informers: { enabled: false },
            tenancy: options.tenancy,
            ...(options.cost ? { cost: options.cost } : {}),
          },
          kubernetes: localKubernetesConfig(),
        },
      }),
    ],
  });
  const { port } = backend.server.address() as AddressInfo;
  return {
    policy: 'ownership' as const,
    tokenOf: options.identities.userToken,
    server: backend.server,
    baseUrl: `http://localhost:${port}`,
    mcpUrl: `http://localhost:${port}/api/mcp-actions/v1`,
    stop: () => backend.stop(),
  };
}

export type AgentPortal = Awaited<ReturnType<typeof startAgentPortal>>;
