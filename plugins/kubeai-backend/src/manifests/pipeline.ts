/**
 * Pipelines: an Argo `Workflow` (one run) or `CronWorkflow` (scheduled runs) whose DAG is made of
 * KubeAI steps:
 * - `container`: any image with an argv command (e.g. evaluation), optional output parameters;
 * - `training`: any training kind of ./training.ts except CronJob, created by an Argo resource
 *   template that waits for it to succeed (TrainJob: plus a `kubectl wait` step, because Argo's
 *   success conditions cannot select list items such as a condition of type Complete);
 * - `registerModelVersion`: registers the produced artifact as a model version in the KubeAI
 *   registry (a small fixed Python program POSTing to the KubeAI backend), whose assigned version
 *   number is the step's output `version` (`{{tasks.<step>.outputs.parameters.version}}`);
 * - `deployCanary`: applies a KServe InferenceService with `canaryTrafficPercent`;
 * - `promote`: removes `canaryTrafficPercent` (the canary gets 100 %).
 *
 * String fields of steps may contain Argo placeholders, from an allow-list only:
 * `{{workflow.name}}`, `{{workflow.uid}}`, `{{workflow.namespace}}`,
 * `{{workflow.creationTimestamp.<fmt>}}`, `{{workflow.parameters.<declared parameter>}}` and
 * `{{tasks.<step>.outputs.parameters.<name>}}`. They are checked by substituting a token and
 * validating the result like a literal, so a templated model version still has to make a valid
 * label around the placeholder.
 */
import { z } from 'zod';
import YAML from 'yaml';
import { containerEnv, containerResources, datasetVolumes } from './common';
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
import {
  buildInferenceService,
  inferenceServiceInputSchema,
} from './inferenceService';
import {
  KUBEAI_ANNOTATIONS,
  KUBEAI_LABELS,
  KUBEAI_MANAGER,
  kubeaiLabels,
  kubeaiMetadata,
  normalizeModelRef,
} from './labels';
import {
  buildTraining,
  mainReplicaType,
  trainingInputSchema,
  type ParsedTrainingInput,
} from './training';
import type { KubeObject } from './types';

// ---------------------------------------------------------------------------------------------
// placeholders

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const ALLOWED_PLACEHOLDER =
  /^(workflow\.(name|uid|namespace)|workflow\.creationTimestamp\.[A-Za-z]|workflow\.parameters\.[A-Za-z0-9_-]+|tasks\.[a-z0-9-]+\.outputs\.parameters\.[A-Za-z0-9_-]+)$/;

/** Placeholder expressions (without braces) in a string. */
function placeholdersOf(value: string): string[] {
  return [...value.matchAll(PLACEHOLDER)].map(m => m[1]);
}

/** Every string inside a JSON value, with its path (so issues name the field). */
function stringsOf(
  value: unknown,
  path: (string | number)[] = [],
  out: { path: (string | number)[]; text: string }[] = [],
): { path: (string | number)[]; text: string }[] {
  if (typeof value === 'string') {
    out.push({ path, text: value });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => stringsOf(v, [...path, i], out));
  } else if (value && typeof value === 'object') {
    Object.entries(value).forEach(([k, v]) => stringsOf(v, [...path, k], out));
  }
  return out;
}

/**
 * Replaces every placeholder in the strings of `value` with a token that is valid wherever a
 * label value or a DNS label is (`kubeaitmpl<n>x`), returning the tokenized copy and a function
 * restoring the placeholders in text.
 */
function tokenize<T>(value: T): {
  value: T;
  restore: (text: string) => string;
} {
  const tokens = new Map<string, string>();
  const replace = (s: string) =>
    s.replace(PLACEHOLDER, match => {
      const token = `kubeaitmpl${tokens.size}x`;
      tokens.set(token, match);
      return token;
    });
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return replace(v);
    }
    if (Array.isArray(v)) {
      return v.map(walk);
    }
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k, walk(x)]),
      );
    }
    return v;
  };
  const tokenized = walk(value) as T;
  return {
    value: tokenized,
    restore: text =>
      text.replace(/kubeaitmpl[0-9]+x/g, token => tokens.get(token) ?? token),
  };
}

// ---------------------------------------------------------------------------------------------
// input

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

const registryUriSchema = z
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
    registry: z
      .object({
        /** Base URL of the KubeAI backend as seen from the cluster, e.g. `http://backstage.backstage:7007/api/kubeai`. */
        url: z
          .string()
          .max(1024)
          .regex(
            /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~/-]*)?$/,
            'must be an http(s) URL',
          ),
        /** Secret key holding a token the backend accepts (sent as `Authorization: Bearer`). */
        tokenSecret: z
          .object({
            name: dnsSubdomainSchema,
            key: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key'),
          })
          .strict(),
      })
      .strict(),
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

const deployCanaryStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('deployCanary'),
    /**
     * An InferenceService input of ./inferenceService.ts with `canaryTrafficPercent`;
     * `namespace` and `modelRef` default to the pipeline's.
     */
    inferenceService: z.record(z.string(), z.unknown()),
  })
  .strict();

const promoteStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('promote'),
    /** Name of the InferenceService (in the pipeline's namespace). */
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

const pipelineObjectSchema = identitySchema
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
type ParsedPipelineInput = z.output<typeof pipelineObjectSchema>;
type ParsedStep = z.output<typeof pipelineStepSchema>;

function issue(
  ctx: z.RefinementCtx,
  path: (string | number)[],
  message: string,
) {
  ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
}

function trainingInputOf(
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

function inferenceServiceInputOf(
  pipeline: { namespace: string; modelRef?: string; entityRef?: string },
  step: { inferenceService: Record<string, unknown> },
) {
  return {
    namespace: pipeline.namespace,
    ...(pipeline.modelRef ? { modelRef: pipeline.modelRef } : {}),
    ...(pipeline.entityRef ? { entityRef: pipeline.entityRef } : {}),
    ...step.inferenceService,
  };
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
    if (tokenized.type === 'deployCanary') {
      const isvc = inferenceServiceInputSchema.safeParse(
        inferenceServiceInputOf(input, tokenized),
      );
      addNestedIssues(ctx, ['steps', i, 'inferenceService'], isvc);
      if (isvc.success && isvc.data.canaryTrafficPercent === undefined) {
        issue(
          ctx,
          ['steps', i, 'inferenceService', 'canaryTrafficPercent'],
          'a canary needs canaryTrafficPercent',
        );
      }
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
          (s.inferenceService as { name?: unknown }).name ===
            step.inferenceService,
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

// ---------------------------------------------------------------------------------------------
// build

/**
 * The registration step's program (fixed; inputs arrive as argv): POSTs the version to the
 * registry and writes the assigned version number to /tmp/kubeai/version.
 */
export const REGISTER_SCRIPT = [
  'import json, os, sys, urllib.request',
  'url, body = sys.argv[1], json.loads(sys.argv[2])',
  'if len(sys.argv) > 3 and sys.argv[3].strip():',
  '    body["metrics"] = json.loads(sys.argv[3])',
  'request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={',
  '    "Content-Type": "application/json",',
  '    "Authorization": "Bearer " + os.environ["KUBEAI_REGISTRY_TOKEN"]})',
  'with urllib.request.urlopen(request, timeout=60) as response:',
  '    created = json.load(response)',
  'os.makedirs("/tmp/kubeai", exist_ok=True)',
  'with open("/tmp/kubeai/version", "w") as f:',
  '    f.write(str(created["version"]))',
  'with open("/tmp/kubeai/model-version.json", "w") as f:',
  '    json.dump(created, f)',
  'print(json.dumps({"model": url, "version": created["version"]}))',
].join('\n');

interface ArgoTask {
  name: string;
  template: string;
  dependencies?: string[];
  when?: string;
}

interface BuiltStep {
  templates: Record<string, unknown>[];
  tasks: ArgoTask[];
  /** Task other steps depend on for "this step is done". */
  doneTask: string;
}

function successConditions(training: ParsedTrainingInput): {
  successCondition?: string;
  failureCondition?: string;
} {
  if (training.kind === 'Job') {
    return {
      successCondition: 'status.succeeded > 0',
      failureCondition: `status.failed > ${training.backoffLimit ?? 6}`,
    };
  }
  const main = mainReplicaType(training);
  if (main) {
    return {
      successCondition: `status.replicaStatuses.${main}.succeeded > 0`,
      failureCondition: `status.replicaStatuses.${main}.failed > 0`,
    };
  }
  return {};
}

/** Adds `key: value` to every `labels` map that carries the KubeAI manager label. */
function labelEverywhere(value: unknown, key: string, label: string): void {
  if (Array.isArray(value)) {
    value.forEach(v => labelEverywhere(v, key, label));
    return;
  }
  if (!value || typeof value !== 'object') {
    return;
  }
  const record = value as Record<string, unknown>;
  const labels = record.labels as Record<string, string> | undefined;
  if (labels && labels[KUBEAI_LABELS.managedBy] === KUBEAI_MANAGER) {
    labels[key] = label;
  }
  Object.values(record).forEach(v => labelEverywhere(v, key, label));
}

/**
 * The YAML manifest of an Argo resource template, with placeholders restored. Every string is
 * double-quoted, so substituted values stay strings (a version `8` must stay the label value "8")
 * and a placeholder never turns into YAML syntax.
 */
function manifestOf(
  object: unknown,
  restore: (s: string) => string = s => s,
): string {
  return restore(
    YAML.stringify(object, {
      lineWidth: 0,
      defaultStringType: 'QUOTE_DOUBLE',
      defaultKeyType: 'PLAIN',
    }),
  );
}

function buildStep(
  pipeline: ParsedPipelineInput,
  rawStep: ParsedStep,
  dependencies: string[],
): BuiltStep {
  const { value: step, restore } = tokenize(rawStep);
  const base: Omit<ArgoTask, 'template'> = {
    name: rawStep.name,
    ...(dependencies.length > 0 ? { dependencies } : {}),
    ...(rawStep.when ? { when: rawStep.when } : {}),
  };
  const runLabel = '{{workflow.name}}';
  switch (step.type) {
    case 'container': {
      const s = rawStep as Extract<ParsedStep, { type: 'container' }>;
      const datasets = datasetVolumes(s.datasets);
      return {
        templates: [
          {
            name: s.name,
            metadata: {
              labels: kubeaiLabels({
                entityRef: pipeline.entityRef,
                modelRef: pipeline.modelRef,
              }),
            },
            container: {
              image: s.image,
              ...(s.command ? { command: s.command } : {}),
              ...(s.args ? { args: s.args } : {}),
              ...(s.env ? { env: containerEnv(s.env) } : {}),
              ...(s.resources
                ? { resources: containerResources(s.resources) }
                : {}),
              ...(datasets.volumeMounts.length > 0
                ? { volumeMounts: datasets.volumeMounts }
                : {}),
            },
            ...(datasets.volumes.length > 0
              ? { volumes: datasets.volumes }
              : {}),
            ...(s.outputs?.length
              ? {
                  outputs: {
                    parameters: s.outputs.map(o => ({
                      name: o.name,
                      valueFrom: { path: o.path },
                    })),
                  },
                }
              : {}),
          },
        ],
        tasks: [{ ...base, template: s.name }],
        doneTask: s.name,
      };
    }
    case 'training': {
      const training = trainingInputSchema.parse(
        trainingInputOf(pipeline, step),
      );
      const [object] = buildTraining(training).filter(
        o => o.kind !== 'PodGroup',
      );
      labelEverywhere(object, KUBEAI_LABELS.run, 'kubeaitmplrunx');
      const name = object.metadata.name!;
      delete object.metadata.name;
      object.metadata.generateName = `${name}-`;
      const runRestore = (text: string) =>
        restore(text).replace(/kubeaitmplrunx/g, runLabel);
      const template = {
        name: rawStep.name,
        resource: {
          action: 'create',
          setOwnerReference: true,
          ...successConditions(training),
          manifest: manifestOf(object, runRestore),
        },
        outputs: {
          parameters: [
            { name: 'name', valueFrom: { jsonPath: '{.metadata.name}' } },
          ],
        },
      };
      if (training.kind !== 'TrainJob') {
        return {
          templates: [template],
          tasks: [{ ...base, template: rawStep.name }],
          doneTask: rawStep.name,
        };
      }
      const waitName = `${rawStep.name}-wait`;
      return {
        templates: [
          template,
          {
            name: waitName,
            inputs: { parameters: [{ name: 'name' }] },
            container: {
              image: pipeline.images.kubectl,
              command: ['kubectl'],
              args: [
                'wait',
                '--for=condition=Complete',
                `--timeout=${training.activeDeadlineSeconds ?? 7 * 24 * 3600}s`,
                '--namespace',
                training.namespace,
                'trainjobs.trainer.kubeflow.org/{{inputs.parameters.name}}',
              ],
            },
          },
        ],
        tasks: [
          { ...base, template: rawStep.name },
          {
            name: waitName,
            template: waitName,
            dependencies: [rawStep.name],
            arguments: {
              parameters: [
                {
                  name: 'name',
                  value: `{{tasks.${rawStep.name}.outputs.parameters.name}}`,
                },
              ],
            },
          } as ArgoTask,
        ],
        doneTask: waitName,
      };
    }
    case 'registerModelVersion': {
      const s = rawStep as Extract<
        ParsedStep,
        { type: 'registerModelVersion' }
      >;
      const modelRef = normalizeModelRef((s.modelRef ?? pipeline.modelRef)!);
      const [, namespaceAndName] = modelRef.split(':');
      const [modelNamespace, modelName] = namespaceAndName.split('/');
      const body = {
        artifact: s.artifact,
        ...(s.framework ? { framework: s.framework } : {}),
        ...(s.aliases?.length ? { aliases: s.aliases } : {}),
        tags: [`pipeline:${pipeline.name}`, 'workflow:{{workflow.name}}'],
      };
      const url = `${s.registry.url.replace(
        /\/+$/,
        '',
      )}/models/${encodeURIComponent(modelNamespace)}/${encodeURIComponent(
        modelName,
      )}/versions`;
      return {
        templates: [
          {
            name: s.name,
            metadata: {
              labels: kubeaiLabels({ entityRef: pipeline.entityRef, modelRef }),
            },
            container: {
              image: pipeline.images.python,
              command: ['python3', '-c', REGISTER_SCRIPT],
              args: [
                url,
                JSON.stringify(body),
                s.metricsFrom
                  ? `{{tasks.${s.metricsFrom.step}.outputs.parameters.${s.metricsFrom.parameter}}}`
                  : '',
              ],
              env: [
                {
                  name: 'KUBEAI_REGISTRY_TOKEN',
                  valueFrom: {
                    secretKeyRef: {
                      name: s.registry.tokenSecret.name,
                      key: s.registry.tokenSecret.key,
                    },
                  },
                },
              ],
            },
            outputs: {
              parameters: [
                { name: 'version', valueFrom: { path: '/tmp/kubeai/version' } },
                {
                  name: 'modelVersion',
                  valueFrom: { path: '/tmp/kubeai/model-version.json' },
                },
              ],
            },
          },
        ],
        tasks: [{ ...base, template: s.name }],
        doneTask: s.name,
      };
    }
    case 'deployCanary': {
      const object = buildInferenceService(
        inferenceServiceInputSchema.parse(
          inferenceServiceInputOf(pipeline, step),
        ),
      );
      labelEverywhere(object, KUBEAI_LABELS.run, 'kubeaitmplrunx');
      const runRestore = (text: string) =>
        restore(text).replace(/kubeaitmplrunx/g, runLabel);
      return {
        templates: [
          {
            name: rawStep.name,
            resource: {
              action: 'apply',
              manifest: manifestOf(object, runRestore),
            },
          },
        ],
        tasks: [{ ...base, template: rawStep.name }],
        doneTask: rawStep.name,
      };
    }
    case 'promote': {
      const s = rawStep as Extract<ParsedStep, { type: 'promote' }>;
      const deploy = pipeline.steps.find(
        d =>
          d.type === 'deployCanary' &&
          (d.inferenceService as { name?: unknown }).name ===
            s.inferenceService,
      ) as Extract<ParsedStep, { type: 'deployCanary' }> | undefined;
      const version = deploy?.inferenceService.version as
        | {
            version: string;
            artifact: { uri: string; format: string; formatVersion?: string };
          }
        | undefined;
      const patch = {
        apiVersion: 'serving.kserve.io/v1beta1',
        kind: 'InferenceService',
        metadata: {
          name: s.inferenceService,
          namespace: pipeline.namespace,
          ...(version
            ? {
                annotations: {
                  [KUBEAI_ANNOTATIONS.stableModelVersion]: version.version,
                  [KUBEAI_ANNOTATIONS.stableStorageUri]: version.artifact.uri,
                  [KUBEAI_ANNOTATIONS.stableModelFormat]: version.artifact
                    .formatVersion
                    ? `${version.artifact.format}:${version.artifact.formatVersion}`
                    : version.artifact.format,
                },
              }
            : {}),
        },
        spec: { predictor: { canaryTrafficPercent: null } },
      };
      return {
        templates: [
          {
            name: s.name,
            resource: {
              action: 'patch',
              mergeStrategy: 'merge',
              manifest: manifestOf(patch),
            },
          },
        ],
        tasks: [{ ...base, template: s.name }],
        doneTask: s.name,
      };
    }
    default:
      throw new Error('unknown step type');
  }
}

/**
 * Builds an Argo `Workflow` (or, with `schedule`, a `CronWorkflow`) running the pipeline's steps
 * as a DAG. The input is validated with {@link pipelineInputSchema}.
 */
export function buildPipeline(rawInput: PipelineInput): KubeObject {
  const input = pipelineInputSchema.parse(rawInput);
  const identity = { entityRef: input.entityRef, modelRef: input.modelRef };
  const doneTasks = new Map<string, string>();
  const templates: Record<string, unknown>[] = [];
  const tasks: ArgoTask[] = [];
  for (const step of input.steps) {
    const dependencies = (step.dependsOn ?? []).map(d => doneTasks.get(d)!);
    const built = buildStep(input, step, dependencies);
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
