/**
 * Pipelines: an Argo `Workflow` (one run) or `CronWorkflow` (scheduled runs) whose DAG is made of
 * KubeAI steps:
 * - `container`: any image with an argv command (e.g. evaluation), optional output parameters;
 * - `training`: any training kind of ./training.ts except CronJob, created by an Argo resource
 *   template that waits for it to succeed (TrainJob: plus a `kubectl wait` step, because Argo's
 *   success conditions cannot select list items such as a condition of type Complete);
 * - `registerModelVersion`: registers the produced artifact as a model version in the KubeAI
 *   registry with the pipeline's run id (`kubeai register`, the CLI of ./kubeaiCli.ts, with the
 *   run's credential), whose assigned version number is the step's output `version`
 *   (`{{tasks.<step>.outputs.parameters.version}}`);
 * - `deployCanary`: deploys that version as a canary through the KubeAI API (`kubeai deploy`), a
 *   recorded deployment revision caused by the run;
 * - `promote`: gives the canary all the traffic through the API (`kubeai promote`), likewise.
 *
 * With a run identity (./runIdentity.ts; the pipeline route always gives one), every pod of the
 * workflow — steps and the training objects it creates — gets the run's label, env and credential.
 *
 * String fields of steps may contain Argo placeholders, from an allow-list only:
 * `{{workflow.name}}`, `{{workflow.uid}}`, `{{workflow.namespace}}`,
 * `{{workflow.creationTimestamp.<fmt>}}`, `{{workflow.parameters.<declared parameter>}}` and
 * `{{tasks.<step>.outputs.parameters.<name>}}`. They are checked by substituting a token and
 * validating the result like a literal, so a templated model version still has to make a valid
 * label around the placeholder.
 *
 * Files: ./pipelineInput.ts (schemas), ./pipelinePlaceholders.ts, ./pipelineValidation.ts (checks
 * across steps), ./pipelineSteps.ts (templates per step); this one assembles the workflow.
 */
import { kubeaiLabels, kubeaiMetadata } from './labels';
import { pipelineInputSchema, type PipelineInput } from './pipelineValidation';
import { buildStep, type ArgoTask } from './pipelineSteps';
import { withRunIdentity, type RunIdentityInput } from './runIdentity';
import type { KubeObject } from './types';

export { pipelineStepSchema, type PipelineStep } from './pipelineInput';
export { pipelineInputSchema, type PipelineInput } from './pipelineValidation';
export { kubeaiCliSource } from './kubeaiCli';

/**
 * Builds an Argo `Workflow` (or, with `schedule`, a `CronWorkflow`) running the pipeline's steps
 * as a DAG. The input is validated with {@link pipelineInputSchema}.
 */
export function buildPipeline(
  rawInput: PipelineInput,
  run?: RunIdentityInput,
): KubeObject {
  const built = buildPipelineObject(rawInput, run);
  return run ? withRunIdentity([built], run)[0] : built;
}

function buildPipelineObject(
  rawInput: PipelineInput,
  run: RunIdentityInput | undefined,
): KubeObject {
  const input = pipelineInputSchema.parse(rawInput);
  const identity = { entityRef: input.entityRef, modelRef: input.modelRef };
  const doneTasks = new Map<string, string>();
  const templates: Record<string, unknown>[] = [];
  const tasks: ArgoTask[] = [];
  for (const step of input.steps) {
    const dependencies = (step.dependsOn ?? []).map(d => doneTasks.get(d)!);
    const built = buildStep(input, step, dependencies, run);
    templates.push(...built.templates);
    tasks.push(...built.tasks);
    doneTasks.set(step.name, built.doneTask);
  }
  const workflowSpec: Record<string, unknown> = {
    entrypoint: 'main',
    ...(input.serviceAccountName
      ? { serviceAccountName: input.serviceAccountName }
      : {}),
    ...(input.activeDeadlineSeconds
      ? { activeDeadlineSeconds: input.activeDeadlineSeconds }
      : {}),
    ...(input.parameters?.length
      ? {
          arguments: {
            parameters: input.parameters.map(p =>
              p.value === undefined
                ? { name: p.name }
                : { name: p.name, value: p.value },
            ),
          },
        }
      : {}),
    podMetadata: { labels: kubeaiLabels(identity) },
    templates: [{ name: 'main', dag: { tasks } }, ...templates],
  };
  if (input.schedule) {
    return {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'CronWorkflow',
      metadata: kubeaiMetadata(input.name, input.namespace, identity),
      spec: {
        schedules: [input.schedule],
        ...(input.timeZone ? { timezone: input.timeZone } : {}),
        concurrencyPolicy: input.concurrencyPolicy,
        workflowMetadata: { labels: kubeaiLabels(identity) },
        workflowSpec,
      },
    };
  }
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: kubeaiMetadata(input.name, input.namespace, {
      ...identity,
      runId: input.runId,
    }),
    spec: workflowSpec,
  };
}
