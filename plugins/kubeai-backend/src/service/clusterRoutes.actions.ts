/**
 * The `kubeai:*` actions in the actions registry of the kubeai plugin (ids `kubeai:<name>`, e.g.
 * `kubeai:create-notebook`; MCP tools `kubeai.create-notebook` once `kubeai` is in
 * `backend.actions.pluginSources`). They are the definitions the scaffolder module uses
 * (`kubeaiActions` of `@kubeai/plugin-kubeai-node`), calling this plugin's own API on behalf of
 * the caller — so the same validation and the same permission checks apply to the caller.
 */
import type {
  AuthService,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import type { ActionsRegistryService } from '@backstage/backend-plugin-api/alpha';
import { KUBEAI_PLUGIN_ID, KubeaiClient } from '@kubeai/plugin-kubeai-common';
import { kubeaiActions } from '@kubeai/plugin-kubeai-node';

/** Registers every `kubeai:*` action with the actions registry. */
export function registerKubeaiActions(options: {
  actionsRegistry: ActionsRegistryService;
  auth: AuthService;
  discovery: DiscoveryService;
}): void {
  const { actionsRegistry, auth, discovery } = options;
  const client = new KubeaiClient({ discoveryApi: discovery });
  for (const definition of kubeaiActions) {
    const changesTraffic = /^(promote|rollback)-/.test(definition.name);
    actionsRegistry.register({
      name: definition.name,
      title: definition.title,
      description: `${definition.description} (Scaffolder action: ${definition.id}.)`,
      // The definitions are written against the zod v3 API; the registry hands them its own `z`
      // (another copy of zod, same API), which TypeScript sees as a different type.
      schema: {
        input: definition.input as any,
        output: definition.output as any,
      },
      attributes: {
        readOnly: definition.readOnly ?? false,
        destructive: changesTraffic,
        idempotent: definition.name !== 'register-model-version',
      },
      examples: definition.examples.map(e => ({
        title: e.title,
        input: e.input,
      })),
      action: async ({ input, credentials }) => {
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
