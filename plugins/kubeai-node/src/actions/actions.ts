/**
 * The `kubeai:*` actions, defined once and used twice:
 *
 * - as scaffolder template actions (`@kubeai/plugin-scaffolder-backend-module-kubeai`, ids
 *   `kubeai:notebook:create`, …), calling the KubeAI API with the token of the user running the
 *   template;
 * - in the actions registry of the kubeai backend plugin (ids `kubeai:create-notebook`, …;
 *   MCP tools `kubeai.create-notebook`, …), calling the API on behalf of the caller.
 *
 * Each definition has zod input / output schemas (as functions of the `z` the host passes, the
 * zod v3 API), examples, and `run`, which maps the input to one KubeAI API call. Validation of the
 * content (names, quantities, cron, references, permissions) is the API's: the schemas here
 * describe the fields for forms and tools, and the API answers a 4xx naming the field. The fields
 * an action shares with its request body are built from the spec's component schemas
 * (via `specZod.ts`); actions.test.ts fails when one drifts from the spec.
 *
 * @packageDocumentation
 */
import {
  apiError,
  type JsonValue,
  type KubeaiActionDefinition,
} from './actionParts';
import {
  inferenceServiceDeploy,
  inferenceServicePromote,
  inferenceServiceRollback,
  modelRegister,
} from './servingActions';
import {
  deploymentsRead,
  impactRead,
  lineageRead,
  modelVersionsRead,
  runRead,
} from './readActions';
import {
  datasetCreate,
  jobCreate,
  notebookCreate,
  pipelineCreate,
} from './workloadActions';
import { poolsApply } from './poolActions';
import { teamUsageRead } from './teamActions';

export {
  apiError,
  objectRefString,
  pruneEmpty,
  type KubeaiActionDefinition,
  type KubeaiActionRunOptions,
} from './actionParts';

/** API refusals rethrown with the API's message (see {@link apiError}). */
const withApiErrors = (
  definition: KubeaiActionDefinition,
): KubeaiActionDefinition => ({
  ...definition,
  async run(client, input, options) {
    try {
      return await definition.run(client, input, options);
    } catch (error) {
      throw apiError(error);
    }
  },
});

/** Every `kubeai:*` write action: scaffolder actions, and write actions of the actions registry. */
export const kubeaiActions: KubeaiActionDefinition[] = [
  notebookCreate,
  jobCreate,
  datasetCreate,
  modelRegister,
  inferenceServiceDeploy,
  inferenceServicePromote,
  inferenceServiceRollback,
  pipelineCreate,
  poolsApply,
].map(withApiErrors);

/**
 * The read-only `kubeai:*` actions of the actions registry (`readOnly: true`; not scaffolder
 * actions): model versions, deployments, lineage, impact, a run with its log tail, a team's cost
 * and pool usage.
 */
export const kubeaiReadActions: KubeaiActionDefinition[] = [
  modelVersionsRead,
  deploymentsRead,
  lineageRead,
  impactRead,
  runRead,
  teamUsageRead,
].map(withApiErrors);

export { TEAM_USAGE_CAPS } from './teamActions';
export {
  LINEAGE_CAPS,
  LOG_TAIL_MAX_CHARS,
  summariseLineage,
} from './readActions';

/** A template step of an example, as YAML (for the scaffolder's action examples). */
export function exampleStepYaml(
  action: KubeaiActionDefinition,
  input: Record<string, JsonValue>,
): string {
  const step = {
    steps: [
      {
        id: action.id.split(':').slice(1).join('-'),
        name: action.title,
        action: action.id,
        input,
      },
    ],
  };
  return toYaml(step, 0).trimEnd();
}

function scalar(value: JsonValue): string {
  if (typeof value === 'string') {
    return /^[A-Za-z0-9_./@-][A-Za-z0-9 _./@:-]*$/.test(value) &&
      !/^(true|false|null|yes|no|[0-9.]+)$/i.test(value) &&
      !value.endsWith(' ') &&
      !value.includes(': ')
      ? value
      : JSON.stringify(value);
  }
  return JSON.stringify(value);
}

function toYaml(value: JsonValue, indent: number): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value
      .map(item => {
        if (item && typeof item === 'object') {
          const inner = toYaml(item, indent + 2);
          return `${pad}- ${inner.slice(indent + 2)}`;
        }
        return `${pad}- ${scalar(item)}\n`;
      })
      .join('');
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return `${pad}{}\n`;
    return entries
      .map(([key, item]) => {
        if (
          item &&
          typeof item === 'object' &&
          (Array.isArray(item) ? item.length : Object.keys(item).length)
        ) {
          return `${pad}${key}:\n${toYaml(item, indent + 2)}`;
        }
        let text = scalar(item);
        if (item && typeof item === 'object') {
          text = Array.isArray(item) ? '[]' : '{}';
        }
        return `${pad}${key}: ${text}\n`;
      })
      .join('');
  }
  return `${pad}${scalar(value)}\n`;
}
