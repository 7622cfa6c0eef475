/**
 * The Argo templates and DAG tasks of each pipeline step type (see ./pipeline.ts), with
 * placeholders carried through the generated manifests.
 */
import YAML from 'yaml';
import { containerEnv, containerResources, datasetVolumes } from './common';
import {
  buildInferenceService,
  inferenceServiceInputSchema,
} from './inferenceService';
import {
  KUBEAI_ANNOTATIONS,
  KUBEAI_LABELS,
  KUBEAI_MANAGER,
  kubeaiLabels,
  normalizeModelRef,
} from './labels';
import {
  inferenceServiceInputOf,
  trainingInputOf,
  type ParsedPipelineInput,
  type ParsedStep,
} from './pipelineInput';
import { tokenize } from './pipelinePlaceholders';
import { tableInputArgs, tableInputEnv } from './tableInputs';
import {
  buildTraining,
  mainReplicaType,
  trainingInputSchema,
  type ParsedTrainingInput,
} from './training';

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

export function buildStep(
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
