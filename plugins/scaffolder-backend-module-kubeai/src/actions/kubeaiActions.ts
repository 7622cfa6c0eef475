import type {
  AuthService,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  KUBEAI_PLUGIN_ID,
  KubeaiClient,
  type KubeaiFetchApi,
} from '@kubeai/plugin-kubeai-common';
import {
  exampleStepYaml,
  kubeaiActions,
  type KubeaiActionDefinition,
} from '@kubeai/plugin-kubeai-node';

/** What the `kubeai:*` template actions need. */
export interface KubeaiTemplateActionsOptions {
  auth: AuthService;
  discovery: DiscoveryService;
  /** Defaults to the global fetch. */
  fetchApi?: KubeaiFetchApi;
}

/**
 * One scaffolder action per KubeAI action definition. Each calls the KubeAI API with a token
 * issued on behalf of the user running the template, so the API's permission checks apply to that
 * user; a template dry run (or `dryRun: true`) makes the API answer with the manifests after a
 * server-side dry run, writing nothing.
 */
export function createKubeaiTemplateActions(
  options: KubeaiTemplateActionsOptions,
) {
  const client = new KubeaiClient({
    discoveryApi: options.discovery,
    fetchApi: options.fetchApi,
  });
  return kubeaiActions.map(definition =>
    createKubeaiTemplateAction(definition, client, options.auth),
  );
}

function createKubeaiTemplateAction(
  definition: KubeaiActionDefinition,
  client: KubeaiClient,
  auth: AuthService,
) {
  return createTemplateAction({
    id: definition.id,
    description: definition.description,
    examples: definition.examples.map(e => ({
      description: e.title,
      example: exampleStepYaml(definition, e.input),
    })),
    supportsDryRun: true,
    schema: {
      // The definitions are written against the zod v3 API; the scaffolder hands them its own
      // copy of zod (same API), which TypeScript sees as a different type.
      input: definition.input as any,
      output: definition.output as any,
    },
    async handler(ctx) {
      const { token } = await auth.getPluginRequestToken({
        onBehalfOf: await ctx.getInitiatorCredentials(),
        targetPluginId: KUBEAI_PLUGIN_ID,
      });
      const input = ctx.input as Record<string, any>;
      const dryRun = Boolean(ctx.isDryRun || input.dryRun);
      ctx.logger.info(
        `${definition.id}: calling the KubeAI API${dryRun ? ' (dry run)' : ''}`,
      );
      const output = await definition.run(client, input, { token, dryRun });
      if (typeof output.message === 'string') {
        ctx.logger.info(output.message);
      }
      for (const [key, value] of Object.entries(output)) {
        // a JSON copy: plain objects of this realm, whatever `fetch` returned
        ctx.output(key as any, JSON.parse(JSON.stringify(value)));
      }
    },
  });
}
