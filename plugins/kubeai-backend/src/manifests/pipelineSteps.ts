/**
 * The Argo templates and DAG tasks of each pipeline step type (see ./pipeline.ts), with
 * placeholders carried through the generated manifests.
 */
import YAML from 'yaml';
import { containerEnv, containerResources, datasetVolumes } from './common';
import { kubeaiCliCommand } from './kubeaiCli';
import {
  KUBEAI_LABELS,
  KUBEAI_MANAGER,
  kubeaiLabels,
  normalizeModelRef,
} from './labels';
import {
  trainingInputOf,
  type ParsedPipelineInput,
  type ParsedStep,
} from './pipelineInput';
import { withRunIdentity, type RunIdentityInput } from './runIdentity';
import { tokenize } from './pipelinePlaceholders';
import { tableInputArgs, tableInputEnv } from './tableInputs';
import {
  buildTraining,
  mainReplicaType,
  trainingInputSchema,
  type ParsedTrainingInput,
} from './training';

export interface ArgoTask {
  name: string;
  template: string;
  dependencies?: string[];
  when?: string;
}

export interface BuiltStep {
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

/** A container template running the registration CLI (`kubeai <args>`) as the pipeline's run. */
function cliTemplate(
  pipeline: ParsedPipelineInput,
  name: string,
  modelRef: string | undefined,
  args: string[],
  outputs?: Record<string, unknown>,
): Record<string, unknown> {
  return {
    name,
    metadata: {
      labels: kubeaiLabels({ entityRef: pipeline.entityRef, modelRef }),
    },
    container: {
      image: pipeline.images.python,
      command: kubeaiCliCommand(),
      args,
    },
    ...(outputs ? { outputs } : {}),
  };
}

/**
 * The templates and tasks of one step. `identity`: the run the pipeline is (its credential and
 * env reach the training objects the step creates; container templates get them from
 * ./pipeline.ts); without it, objects are labelled with the workflow's name.
 */
export function buildStep(
  pipeline: ParsedPipelineInput,
  rawStep: ParsedStep,
  dependencies: string[],
  identity?: RunIdentityInput,
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
      // tables are read by the step's code: it is told where through env (and args when asked)
      const env = [...(containerEnv(s.env) ?? []), ...tableInputEnv(s.tables)];
      const args = [...(s.args ?? []), ...tableInputArgs(s.tables)];
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
              ...(s.args || args.length > 0 ? { args } : {}),
              ...(env.length > 0 ? { env } : {}),
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
      const [built] = buildTraining(training).filter(
        o => o.kind !== 'PodGroup',
      );
      // the pipeline's run identity in the object Argo creates (and its pods)
      const [object] = identity ? withRunIdentity([built], identity) : [built];
      if (!identity)
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
      const { artifact } = s;
      const args = [
        'register',
        '--model',
        modelRef,
        '--artifact',
        artifact.uri,
        '--format',
        artifact.format,
        ...(artifact.digest ? ['--digest', artifact.digest] : []),
        ...(artifact.size !== undefined
          ? ['--size', String(artifact.size)]
          : []),
        ...(s.framework ? ['--framework', s.framework] : []),
        ...(s.aliases ?? []).flatMap(alias => ['--alias', alias]),
        '--tag',
        `pipeline:${pipeline.name}`,
        '--tag',
        'workflow:{{workflow.name}}',
        ...(s.metricsFrom
          ? [
              '--metrics',
              `{{tasks.${s.metricsFrom.step}.outputs.parameters.${s.metricsFrom.parameter}}}`,
            ]
          : []),
        '--version-file',
        '/tmp/kubeai/version',
        '--output',
        '/tmp/kubeai/model-version.json',
      ];
      return {
        templates: [
          cliTemplate(pipeline, s.name, modelRef, args, {
            parameters: [
              { name: 'version', valueFrom: { path: '/tmp/kubeai/version' } },
              {
                name: 'modelVersion',
                valueFrom: { path: '/tmp/kubeai/model-version.json' },
              },
            ],
          }),
        ],
        tasks: [{ ...base, template: s.name }],
        doneTask: s.name,
      };
    }
    case 'deployCanary': {
      const s = rawStep as Extract<ParsedStep, { type: 'deployCanary' }>;
      const { name, modelVersion, canaryTrafficPercent, ...extra } =
        s.inferenceService;
      const args = [
        'deploy',
        '--service',
        name,
        '--model-version',
        String(modelVersion),
        '--canary',
        String(canaryTrafficPercent),
        '--message',
        `Canary of pipeline ${pipeline.name} ({{workflow.name}})`,
        ...(Object.keys(extra).length > 0
          ? ['--extra', JSON.stringify(extra)]
          : []),
      ];
      return {
        templates: [cliTemplate(pipeline, s.name, pipeline.modelRef, args)],
        tasks: [{ ...base, template: s.name }],
        doneTask: s.name,
      };
    }
    case 'promote': {
      const s = rawStep as Extract<ParsedStep, { type: 'promote' }>;
      const args = [
        'promote',
        '--service',
        s.inferenceService,
        '--message',
        `Promoted by pipeline ${pipeline.name} ({{workflow.name}})`,
      ];
      return {
        templates: [cliTemplate(pipeline, s.name, pipeline.modelRef, args)],
        tasks: [{ ...base, template: s.name }],
        doneTask: s.name,
      };
    }
    default:
      throw new Error('unknown step type');
  }
}
