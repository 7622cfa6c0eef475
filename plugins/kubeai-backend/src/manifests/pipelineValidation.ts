/**
 * Checks of a pipeline across its steps (see ./pipeline.ts): unique names, `dependsOn` order,
 * allowed and resolvable placeholders, and the nested training / InferenceService / registry
 * inputs (validated with their placeholders tokenized), giving {@link pipelineInputSchema}.
 */
import { z } from 'zod';
import {
  pipelineObjectSchema,
  registryUriSchema,
  trainingInputOf,
  type ParsedPipelineInput,
  type ParsedStep,
} from './pipelineInput';
import {
  ALLOWED_PLACEHOLDER,
  placeholdersOf,
  stringsOf,
  tokenize,
} from './pipelinePlaceholders';
import { tableEnvNames } from './tableInputs';
import { trainingInputSchema } from './training';

function issue(
  ctx: z.RefinementCtx,
  path: (string | number)[],
  message: string,
) {
  ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
}

function addNestedIssues(
  ctx: z.RefinementCtx,
  path: (string | number)[],
  result: z.SafeParseReturnType<unknown, unknown>,
) {
  if (!result.success) {
    for (const i of result.error.issues) {
      issue(ctx, [...path, ...i.path], i.message);
    }
  }
}

/** Output parameters a step offers to later steps. */
function stepOutputs(step: ParsedStep): string[] {
  switch (step.type) {
    case 'container':
      return (step.outputs ?? []).map(o => o.name);
    case 'training':
      return ['name'];
    case 'registerModelVersion':
      return ['version', 'modelVersion'];
    default:
      return [];
  }
}

function validatePipeline(input: ParsedPipelineInput, ctx: z.RefinementCtx) {
  const names = new Set<string>();
  const parameters = new Set((input.parameters ?? []).map(p => p.name));
  const outputs = new Map<string, Set<string>>();
  input.steps.forEach((step, i) => {
    if (names.has(step.name)) {
      issue(ctx, ['steps', i, 'name'], `duplicate step "${step.name}"`);
    }
    names.add(step.name);
    outputs.set(step.name, new Set(stepOutputs(step)));
  });
  const earlier = new Set<string>();
  input.steps.forEach((step, i) => {
    for (const dep of step.dependsOn ?? []) {
      if (!earlier.has(dep)) {
        issue(
          ctx,
          ['steps', i, 'dependsOn'],
          names.has(dep)
            ? `"${dep}" must come before "${step.name}"`
            : `unknown step "${dep}"`,
        );
      }
    }
    // placeholders
    for (const { path, text } of stringsOf(step)) {
      const at = ['steps', i, ...path];
      for (const expression of placeholdersOf(text)) {
        if (!ALLOWED_PLACEHOLDER.test(expression)) {
          issue(ctx, at, `placeholder "{{${expression}}}" is not allowed`);
          continue;
        }
        const param = /^workflow\.parameters\.(.+)$/.exec(expression);
        if (param && !parameters.has(param[1])) {
          issue(ctx, at, `unknown workflow parameter "${param[1]}"`);
        }
        const task = /^tasks\.([^.]+)\.outputs\.parameters\.(.+)$/.exec(
          expression,
        );
        if (task) {
          if (
            !earlier.has(task[1]) ||
            !(step.dependsOn ?? []).includes(task[1])
          ) {
            issue(
              ctx,
              at,
              `"{{${expression}}}" needs "${task[1]}" in dependsOn`,
            );
          } else if (!outputs.get(task[1])?.has(task[2])) {
            issue(ctx, at, `step "${task[1]}" has no output "${task[2]}"`);
          }
        }
      }
    }
    if (step.type === 'container') {
      const tableEnv = new Set((step.tables ?? []).flatMap(tableEnvNames));
      (step.env ?? []).forEach((e, j) => {
        if (tableEnv.has(e.name)) {
          issue(
            ctx,
            ['steps', i, 'env', j, 'name'],
            `"${e.name}" is set by a table input`,
          );
        }
      });
    }
    // nested inputs
    const tokenized = tokenize(step).value;
    if (tokenized.type === 'training') {
      const training = trainingInputSchema.safeParse(
        trainingInputOf(input, tokenized),
      );
      addNestedIssues(ctx, ['steps', i, 'training'], training);
      if (training.success && training.data.kind === 'CronJob') {
        issue(
          ctx,
          ['steps', i, 'training', 'kind'],
          'a pipeline step cannot be a CronJob; schedule the pipeline',
        );
      }
      if (
        training.success &&
        training.data.kind === 'Job' &&
        training.data.gang
      ) {
        issue(
          ctx,
          ['steps', i, 'training', 'gang'],
          'gang scheduling of a pipeline Job is not supported (its PodGroup needs a fixed name); use a Training Operator kind',
        );
      }
    }
    if (tokenized.type === 'deployCanary' && !input.modelRef) {
      issue(
        ctx,
        ['steps', i, 'inferenceService'],
        "set modelRef on the pipeline: a canary deploys a version of the pipeline's model",
      );
    }
    if (
      tokenized.type === 'deployCanary' &&
      tokenized.inferenceService.minReplicas !== undefined &&
      tokenized.inferenceService.maxReplicas !== undefined &&
      tokenized.inferenceService.minReplicas >
        tokenized.inferenceService.maxReplicas
    ) {
      issue(
        ctx,
        ['steps', i, 'inferenceService', 'maxReplicas'],
        'must be at least minReplicas',
      );
    }
    if (tokenized.type === 'registerModelVersion') {
      addNestedIssues(
        ctx,
        ['steps', i, 'artifact', 'uri'],
        registryUriSchema.safeParse(tokenized.artifact.uri),
      );
      if (!tokenized.modelRef && !input.modelRef) {
        issue(
          ctx,
          ['steps', i, 'modelRef'],
          'set modelRef here or on the pipeline',
        );
      }
      if (
        tokenized.metricsFrom &&
        !(step.dependsOn ?? []).includes(tokenized.metricsFrom.step)
      ) {
        issue(
          ctx,
          ['steps', i, 'metricsFrom'],
          `"${tokenized.metricsFrom.step}" must be in dependsOn`,
        );
      } else if (
        tokenized.metricsFrom &&
        !outputs
          .get(tokenized.metricsFrom.step)
          ?.has(tokenized.metricsFrom.parameter)
      ) {
        issue(
          ctx,
          ['steps', i, 'metricsFrom'],
          `step "${tokenized.metricsFrom.step}" has no output "${tokenized.metricsFrom.parameter}"`,
        );
      }
    }
    if (step.type === 'promote') {
      const deployed = input.steps.some(
        s =>
          s.type === 'deployCanary' &&
          s.inferenceService.name === step.inferenceService,
      );
      if (!deployed && !(step.dependsOn ?? []).length) {
        // A promote of a service deployed elsewhere is fine, but must be ordered explicitly.
        issue(
          ctx,
          ['steps', i, 'dependsOn'],
          'a promote step must depend on the step(s) that precede it',
        );
      }
    }
    earlier.add(step.name);
  });
}

/** Input of {@link buildPipeline}. */
export const pipelineInputSchema =
  pipelineObjectSchema.superRefine(validatePipeline);
export type PipelineInput = z.input<typeof pipelineInputSchema>;
