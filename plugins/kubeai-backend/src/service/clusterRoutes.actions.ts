/**
 * The `kubeai:*` actions in the actions registry of the kubeai plugin (ids `kubeai:<name>`, e.g.
 * `kubeai:create-notebook`; MCP tools `kubeai.create-notebook` once `kubeai` is in
 * `backend.actions.pluginSources`): the write actions the scaffolder module uses too
 * (`kubeaiActions` of `@kubeai/plugin-kubeai-node`) and the read actions (`kubeaiReadActions`).
 * Each calls this plugin's own API on behalf of the caller — so the same validation and the same
 * permission checks apply to the caller.
 *
 * Write actions act for users only. A service's token does not survive the hops of the actions
 * registry (MCP plugin → this plugin → this plugin's API): each hop gets the calling plugin's own
 * token, which the permission framework lets do anything. So a service caller (e.g. an external
 * token at the MCP endpoint) gets the reads; it writes through the REST API, where its own
 * subject is decided by the permission policy (`kubeai.tenancy.services`).
 */
import type {
  AuthService,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import type { ActionsRegistryService } from '@backstage/backend-plugin-api/alpha';
import { NotAllowedError } from '@backstage/errors';
import { KUBEAI_PLUGIN_ID, KubeaiClient } from '@kubeai/plugin-kubeai-common';
import {
  kubeaiActions,
  kubeaiReadActions,
  type KubeaiActionDefinition,
} from '@kubeai/plugin-kubeai-node';

const DRY_RUN_HINT =
  ' Give `dryRun: true` first to see what it would change (the manifests as the apiserver would store them, and what would be recorded); nothing is written then.';

/** Registers every `kubeai:*` action with the actions registry. */
export function registerKubeaiActions(options: {
  actionsRegistry: ActionsRegistryService;
  auth: AuthService;
  discovery: DiscoveryService;
}): void {
  const { actionsRegistry, auth, discovery } = options;
  const client = new KubeaiClient({ discoveryApi: discovery });
  const definitions: KubeaiActionDefinition[] = [
    ...kubeaiActions,
    ...kubeaiReadActions,
  ];
  for (const definition of definitions) {
    const readOnly = definition.readOnly ?? false;
    const changesTraffic = /^(promote|rollback)-/.test(definition.name);
    actionsRegistry.register({
      name: definition.name,
      title: definition.title,
      description: readOnly
        ? definition.description
        : `${definition.description}${DRY_RUN_HINT} (Scaffolder action: ${definition.id}.)`,
      // The definitions are written against the zod v3 API; the registry hands them its own `z`
      // (another copy of zod, same API), which TypeScript sees as a different type.
      schema: {
        input: definition.input as any,
        output: definition.output as any,
      },
      attributes: {
        readOnly,
        destructive: changesTraffic,
        idempotent: readOnly || definition.name !== 'register-model-version',
      },
      examples: definition.examples.map(e => ({
        title: e.title,
        input: e.input,
      })),
      action: async ({ input, credentials }) => {
        if (!readOnly && !auth.isPrincipal(credentials, 'user')) {
          throw new NotAllowedError(
            `${definition.name} acts for a signed-in user; a service writes through the KubeAI REST API with its own token`,
          );
        }
        const { token } = await auth.getPluginRequestToken({
          onBehalfOf: credentials,
          targetPluginId: KUBEAI_PLUGIN_ID,
        });
        const output = await definition.run(client, input, {
          token,
          dryRun: Boolean((input as { dryRun?: boolean }).dryRun),
        });
        return { output };
      },
    });
  }
}
