/**
 * The pipeline input's shape (see ./pipeline.ts): one schema per step type and the pipeline
 * object around them, plus the defaults a step's nested training / InferenceService input takes
 * from the pipeline. Checks across steps (order, placeholders, nested inputs):
 * ./pipelineValidation.ts.
 */
import { z } from 'zod';
import {
  argvSchema,
  commandSchema,
  cronScheduleSchema,
  datasetMountsSchema,
  dnsLabelSchema,
  dnsSubdomainSchema,
  entityRefSchema,
  envSchema,
  identitySchema,
  imageSchema,
  labelValueSchema,
  modelRefSchema,
  mountPathSchema,
  resourcesSchema,
  timeZoneSchema,
} from './inputs';
import { tableInputsSchema } from './tableInputs';

const stepBase = {
  /** Task name in the DAG (unique). */
  name: dnsLabelSchema.max(40, 'must be at most 40 characters'),
  /** Steps that must succeed first. */
  dependsOn: z.array(dnsLabelSchema).max(32).optional(),
  /**
   * Argo `when` expression, e.g. `{{tasks.evaluate.outputs.parameters.accuracy}} >= 0.9`;
   * placeholders, numbers, quoted words and comparison / boolean operators only.
   */
  when: z
    .string()
    .max(1024)
    .regex(
      /^([\s0-9.<>=!&|()-]|'[A-Za-z0-9_.-]*'|"[A-Za-z0-9_.-]*"|true|false|\{\{[^{}]*\}\})+$/,
      'must compare placeholders with numbers or quoted words (operators < <= > >= == != && || !)',
    )
    .optional(),
};

export const registryUriSchema = z
  .string()
  .regex(
    /^[a-zA-Z][-+.a-zA-Z0-9]*:\/\/[^\s]+$/,
    'must be a URI such as "s3://bucket/path"',
  );

const outputParameterSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be a parameter name'),
    /** File the step writes the value to. */
    path: mountPathSchema,
  })
  .strict();

const containerStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('container'),
    image: imageSchema,
    command: commandSchema.optional(),
    args: argvSchema.optional(),
    env: envSchema.optional(),
    resources: resourcesSchema.optional(),
    datasets: datasetMountsSchema.optional(),
    /** Warehouse tables read, given as env `KUBEAI_INPUT_<NAME>_…` (see ./tableInputs.ts). */
    tables: tableInputsSchema.optional(),
    outputs: z.array(outputParameterSchema).max(32).optional(),
  })
  .strict();

const trainingStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('training'),
    /**
     * A training input of ./training.ts (not CronJob). `name` defaults to `<pipeline>-<step>`
     * (used as generateName: every run creates a new object), `namespace` to the pipeline's.
     */
    training: z.record(z.string(), z.unknown()),
  })
  .strict();

const registerStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('registerModelVersion'),
    /** Defaults to the pipeline's model. */
    modelRef: modelRefSchema.optional(),
    /** The registry artifact: `{ uri, format, digest?, size? }` (format = serialization format). */
    artifact: z
      .object({
        uri: z.string().max(2048),
        format: z
          .string()
          .regex(
            /^[a-zA-Z0-9][-_.+a-zA-Z0-9]{0,63}$/,
            'must be a format such as "onnx"',
          ),
        digest: z
          .string()
          .regex(/^[a-z0-9]+:[a-fA-F0-9]{32,128}$/)
          .optional(),
        size: z.number().int().min(0).optional(),
      })
      .strict(),
    framework: z
      .string()
      .regex(/^[a-zA-Z0-9][-_.+a-zA-Z0-9]{0,63}$/)
      .optional(),
    /** Aliases moved to the new version (e.g. `canary`). */
    aliases: z.array(dnsLabelSchema).max(32).optional(),
    /** Attach metrics: a JSON object output parameter (`{"auc": 0.94}`) of an earlier step. */
    metricsFrom: z
      .object({
        step: dnsLabelSchema,
        parameter: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * The version a rollout step deploys: a version number, an alias, or a placeholder such as
 * `{{tasks.register.outputs.parameters.version}}` (the version the register step created).
 */
const rolloutVersionSchema = z.union([
  z.number().int().min(1),
  z
    .string()
    .max(256)
    .regex(
      /^([0-9]+|[a-z0-9]([-a-z0-9]*[a-z0-9])?|\{\{[^{}]+\}\})$/,
      'must be a version number, an alias or a placeholder',
    ),
]);

const deployCanaryStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('deployCanary'),
    /**
     * The canary, deployed through the KubeAI API (`POST /inference-services`, with the run's
     * credential) in the pipeline's cluster and namespace, of the pipeline's model: the registry
     * resolves the version's artifact, and the rollout is a recorded deployment revision.
     */
    inferenceService: z
      .object({
        name: dnsLabelSchema,
        modelVersion: rolloutVersionSchema,
        canaryTrafficPercent: z.number().int().min(1).max(99),
        resources: resourcesSchema.optional(),
        env: envSchema.optional(),
        minReplicas: z.number().int().min(0).max(1000).optional(),
        maxReplicas: z.number().int().min(1).max(1000).optional(),
        runtime: dnsLabelSchema.optional(),
        protocolVersion: z.enum(['v1', 'v2', 'grpc-v2']).optional(),
        serviceAccountName: dnsSubdomainSchema.optional(),
      })
      .strict(),
  })
  .strict();

const promoteStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('promote'),
    /**
     * Name of the InferenceService (in the pipeline's namespace) whose canary gets all the
     * traffic, through the KubeAI API (`POST …/promote`): a recorded deployment revision.
     */
    inferenceService: dnsLabelSchema,
  })
  .strict();

/** One pipeline step. */
export const pipelineStepSchema = z.discriminatedUnion('type', [
  containerStepSchema,
  trainingStepSchema,
  registerStepSchema,
  deployCanaryStepSchema,
  promoteStepSchema,
]);
export type PipelineStep = z.input<typeof pipelineStepSchema>;

export const pipelineObjectSchema = identitySchema
  .extend({
    name: dnsLabelSchema.max(
      52,
      'must be at most 52 characters (Argo appends a suffix per run)',
    ),
    entityRef: entityRefSchema.optional(),
    /** The model the pipeline produces (labels; default for register / deploy steps). */
    modelRef: modelRefSchema.optional(),
    /** Run id of a one-off Workflow (label `kubeai.io/run`); scheduled runs use the workflow name. */
    runId: labelValueSchema.optional(),
    /** Workflow parameters (`{{workflow.parameters.<name>}}`). */
    parameters: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be a parameter name'),
            value: z.string().max(4096).optional(),
          })
          .strict(),
      )
      .max(64)
      .optional(),
    /** Cron schedule: build a CronWorkflow instead of a Workflow. */
    schedule: cronScheduleSchema.optional(),
    timeZone: timeZoneSchema.optional(),
    concurrencyPolicy: z.enum(['Allow', 'Forbid', 'Replace']).default('Forbid'),
    serviceAccountName: dnsSubdomainSchema.optional(),
    activeDeadlineSeconds: z.number().int().min(1).optional(),
    /** Images of the helper steps. */
    images: z
      .object({
        kubectl: imageSchema.default('bitnami/kubectl:1.31'),
        /** Runs the registration script (Python 3 standard library only). */
        python: imageSchema.default('python:3.12-alpine'),
      })
      .strict()
      .default({}),
    steps: z.array(pipelineStepSchema).min(1).max(64),
  })
  .strict();
export type ParsedPipelineInput = z.output<typeof pipelineObjectSchema>;
export type ParsedStep = z.output<typeof pipelineStepSchema>;

/** The training input of a `training` step: name and identity default to the pipeline's. */
export function trainingInputOf(
  pipeline: {
    name: string;
    namespace: string;
    modelRef?: string;
    entityRef?: string;
  },
  step: { name: string; training: Record<string, unknown> },
) {
  return {
    name: `${pipeline.name}-${step.name}`.slice(0, 58).replace(/-+$/, ''),
    namespace: pipeline.namespace,
    ...(pipeline.modelRef ? { modelRef: pipeline.modelRef } : {}),
    ...(pipeline.entityRef ? { entityRef: pipeline.entityRef } : {}),
    ...step.training,
  };
}
