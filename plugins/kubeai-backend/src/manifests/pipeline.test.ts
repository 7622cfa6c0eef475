import YAML from 'yaml';
import {
  buildPipeline,
  kubeaiCliSource,
  pipelineInputSchema,
  type PipelineInput,
} from './pipeline';
import type { RunIdentityInput } from './runIdentity';
import { validateAgainstAllCrdSets } from './__testUtils__/crdSchemas';

/**
 * Example spec of the "retrain → evaluate → register → canary" pipeline template: nightly
 * PyTorchJob retraining on the shoes dataset, an evaluation container writing metrics, a gate
 * on accuracy, registration of the new version with its metrics, and a 10 % canary.
 */
const retrainEvaluateRegisterCanary: PipelineInput = {
  name: 'shoe-brand-retrain',
  namespace: 'team-a',
  entityRef: 'component:default/shoe-brand-pipeline',
  modelRef: 'model:default/shoe-brand',
  schedule: '0 2 * * *',
  timeZone: 'Europe/Berlin',
  serviceAccountName: 'kubeai-pipeline',
  parameters: [{ name: 'epochs', value: '10' }],
  steps: [
    {
      name: 'retrain',
      type: 'training',
      training: {
        kind: 'PyTorchJob',
        image: 'ghcr.io/acme/shoe-trainer:1.4',
        command: ['python', '-m', 'shoe.train'],
        args: [
          '--epochs',
          '{{workflow.parameters.epochs}}',
          '--out',
          's3://models/shoe-brand/{{workflow.name}}/',
        ],
        replicas: { Worker: 2 },
        resources: { cpu: '4', memory: '16Gi', gpu: 1 },
        datasets: [{ name: 'shoes', claimName: 'shoes' }],
        queue: { name: 'team-a-queue' },
        backoffLimit: 1,
      },
    },
    {
      name: 'evaluate',
      type: 'container',
      dependsOn: ['retrain'],
      image: 'ghcr.io/acme/shoe-trainer:1.4',
      command: ['python', '-m', 'shoe.evaluate'],
      args: [
        '--model',
        's3://models/shoe-brand/{{workflow.name}}/model.onnx',
        '--metrics',
        '/tmp/metrics.json',
        '--accuracy',
        '/tmp/accuracy',
      ],
      datasets: [{ name: 'shoes-holdout', claimName: 'shoes-holdout' }],
      outputs: [
        { name: 'metrics', path: '/tmp/metrics.json' },
        { name: 'accuracy', path: '/tmp/accuracy' },
      ],
    },
    {
      name: 'register',
      type: 'registerModelVersion',
      dependsOn: ['evaluate'],
      when: '{{tasks.evaluate.outputs.parameters.accuracy}} >= 0.9',
      artifact: {
        uri: 's3://models/shoe-brand/{{workflow.name}}/model.onnx',
        format: 'onnx',
      },
      framework: 'pytorch',
      aliases: ['canary'],
      metricsFrom: { step: 'evaluate', parameter: 'metrics' },
    },
    {
      name: 'canary',
      type: 'deployCanary',
      dependsOn: ['register'],
      inferenceService: {
        name: 'shoe-brand',
        modelVersion: '{{tasks.register.outputs.parameters.version}}',
        canaryTrafficPercent: 10,
        resources: { cpu: '1', memory: '2Gi' },
        minReplicas: 1,
        maxReplicas: 4,
      },
    },
  ],
};

/** Substitutes sample values for Argo placeholders (what Argo does at run time). */
function substitute(text: string): string {
  return text
    .replace(/\{\{workflow\.name\}\}/g, 'shoe-brand-retrain-1767225600')
    .replace(/\{\{workflow\.parameters\.epochs\}\}/g, '10')
    .replace(/\{\{tasks\.register\.outputs\.parameters\.version\}\}/g, '8');
}

function template(workflowSpec: any, name: string) {
  return workflowSpec.templates.find((t: any) => t.name === name);
}

describe('buildPipeline', () => {
  it('builds the retrain → evaluate → register → canary CronWorkflow', () => {
    const cron = buildPipeline(retrainEvaluateRegisterCanary);
    expect(cron).toMatchObject({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'CronWorkflow',
      metadata: {
        name: 'shoe-brand-retrain',
        namespace: 'team-a',
        labels: {
          'app.kubernetes.io/managed-by': 'kubeai',
          'kubeai.io/entity': 'component.default.shoe-brand-pipeline',
          'kubeai.io/model': 'shoe-brand',
        },
      },
      spec: {
        schedules: ['0 2 * * *'],
        timezone: 'Europe/Berlin',
        concurrencyPolicy: 'Forbid',
        workflowMetadata: { labels: { 'kubeai.io/model': 'shoe-brand' } },
      },
    });
    const wf = (cron.spec as any).workflowSpec;
    expect(wf.entrypoint).toBe('main');
    expect(wf.serviceAccountName).toBe('kubeai-pipeline');
    expect(wf.arguments).toEqual({
      parameters: [{ name: 'epochs', value: '10' }],
    });
    expect(template(wf, 'main').dag.tasks).toEqual([
      { name: 'retrain', template: 'retrain' },
      { name: 'evaluate', template: 'evaluate', dependencies: ['retrain'] },
      {
        name: 'register',
        template: 'register',
        dependencies: ['evaluate'],
        when: '{{tasks.evaluate.outputs.parameters.accuracy}} >= 0.9',
      },
      { name: 'canary', template: 'canary', dependencies: ['register'] },
    ]);
  });

  it('creates the training object per run and waits for its main replica', () => {
    const wf = (buildPipeline(retrainEvaluateRegisterCanary).spec as any)
      .workflowSpec;
    const retrain = template(wf, 'retrain');
    expect(retrain.resource).toMatchObject({
      action: 'create',
      setOwnerReference: true,
      successCondition: 'status.replicaStatuses.Master.succeeded > 0',
      failureCondition: 'status.replicaStatuses.Master.failed > 0',
    });
    const manifest = YAML.parse(retrain.resource.manifest);
    expect(manifest.kind).toBe('PyTorchJob');
    expect(manifest.metadata.generateName).toBe('shoe-brand-retrain-retrain-');
    expect(manifest.metadata).not.toHaveProperty('name');
    expect(manifest.metadata.labels).toMatchObject({
      'kueue.x-k8s.io/queue-name': 'team-a-queue',
      'kubeai.io/model': 'shoe-brand',
      'kubeai.io/run': '{{workflow.name}}',
    });
    const master = manifest.spec.pytorchReplicaSpecs.Master.template;
    expect(master.metadata.labels['kubeai.io/run']).toBe('{{workflow.name}}');
    expect(master.spec.containers[0].args).toEqual([
      '--epochs',
      '{{workflow.parameters.epochs}}',
      '--out',
      's3://models/shoe-brand/{{workflow.name}}/',
    ]);
    expect(retrain.outputs.parameters).toEqual([
      { name: 'name', valueFrom: { jsonPath: '{.metadata.name}' } },
    ]);
    // the manifest, once Argo substituted the placeholders, is a valid PyTorchJob
    const { report } = validateAgainstAllCrdSets(
      YAML.parse(substitute(retrain.resource.manifest)),
    );
    expect(report).toBe('');
  });

  it('registers the version with metrics through argv (no shell) and exposes its number', () => {
    const wf = (buildPipeline(retrainEvaluateRegisterCanary).spec as any)
      .workflowSpec;
    const evaluate = template(wf, 'evaluate');
    expect(evaluate.outputs.parameters).toEqual([
      { name: 'metrics', valueFrom: { path: '/tmp/metrics.json' } },
      { name: 'accuracy', valueFrom: { path: '/tmp/accuracy' } },
    ]);
    expect(evaluate.volumes).toEqual([
      {
        name: 'dataset-shoes-holdout',
        persistentVolumeClaim: { claimName: 'shoes-holdout', readOnly: true },
      },
    ]);
    const register = template(wf, 'register');
    // the registration CLI, its arguments as argv; the run id and credential come from the run
    expect(register.container.command).toEqual([
      'python3',
      '-c',
      kubeaiCliSource(),
    ]);
    expect(register.container.args).toEqual([
      'register',
      '--model',
      'model:default/shoe-brand',
      '--artifact',
      's3://models/shoe-brand/{{workflow.name}}/model.onnx',
      '--format',
      'onnx',
      '--framework',
      'pytorch',
      '--alias',
      'canary',
      '--tag',
      'pipeline:shoe-brand-retrain',
      '--tag',
      'workflow:{{workflow.name}}',
      '--metrics',
      '{{tasks.evaluate.outputs.parameters.metrics}}',
      '--version-file',
      '/tmp/kubeai/version',
      '--output',
      '/tmp/kubeai/model-version.json',
    ]);
    expect(register.outputs.parameters[0]).toEqual({
      name: 'version',
      valueFrom: { path: '/tmp/kubeai/version' },
    });
  });

  it('deploys the registered version as a canary through the API', () => {
    const wf = (buildPipeline(retrainEvaluateRegisterCanary).spec as any)
      .workflowSpec;
    const canaryStep = template(wf, 'canary');
    expect(canaryStep.resource).toBeUndefined();
    expect(canaryStep.container.command).toEqual([
      'python3',
      '-c',
      kubeaiCliSource(),
    ]);
    expect(canaryStep.container.args).toEqual([
      'deploy',
      '--service',
      'shoe-brand',
      '--model-version',
      '{{tasks.register.outputs.parameters.version}}',
      '--canary',
      '10',
      '--message',
      'Canary of pipeline shoe-brand-retrain ({{workflow.name}})',
      '--extra',
      JSON.stringify({
        resources: { cpu: '1', memory: '2Gi' },
        minReplicas: 1,
        maxReplicas: 4,
      }),
    ]);
  });

  it('gives every pod of the workflow and of its training objects the run identity', () => {
    const run: RunIdentityInput = {
      runId: '0b7f7a52-3c1e-4f0e-9d7c-1f2e3d4c5b6a',
      modelRef: 'model:default/shoe-brand',
      apiUrl: 'http://backstage.backstage:7007/api/kubeai',
      cluster: 'local',
      namespace: 'team-a',
      secretName: 'shoe-brand-retrain-kubeai-run',
    };
    const { schedule, timeZone, ...once } = retrainEvaluateRegisterCanary;
    const workflow = buildPipeline(once, run) as any;
    expect(workflow.metadata.labels['kubeai.io/run']).toBe(run.runId);
    expect(workflow.spec.podMetadata.labels['kubeai.io/run']).toBe(run.runId);
    for (const name of ['evaluate', 'register', 'canary']) {
      const step = template(workflow.spec, name);
      expect(step.container.env).toEqual(
        expect.arrayContaining([
          { name: 'KUBEAI_RUN_ID', value: run.runId },
          { name: 'KUBEAI_API_URL', value: run.apiUrl },
          { name: 'KUBEAI_CLUSTER', value: 'local' },
          {
            name: 'KUBEAI_RUN_TOKEN_FILE',
            value: '/var/run/secrets/kubeai/token',
          },
        ]),
      );
      expect(step.volumes).toContainEqual(
        expect.objectContaining({
          secret: expect.objectContaining({ secretName: run.secretName }),
        }),
      );
    }
    const retrain = YAML.parse(
      substitute(template(workflow.spec, 'retrain').resource.manifest),
    );
    expect(retrain.metadata.labels['kubeai.io/run']).toBe(run.runId);
    const worker = retrain.spec.pytorchReplicaSpecs.Worker.template;
    expect(worker.metadata.labels['kubeai.io/run']).toBe(run.runId);
    expect(worker.spec.containers[0].env).toContainEqual({
      name: 'KUBEAI_RUN_ID',
      value: run.runId,
    });
    const { sets, report } = validateAgainstAllCrdSets(workflow);
    expect(sets).toEqual(['top', 'newest']);
    expect(report).toBe('');
  });

  it('validates the Workflow and CronWorkflow against the Argo CRDs (minimal and full v4)', () => {
    const cron = buildPipeline(retrainEvaluateRegisterCanary);
    const { schedule, timeZone, ...once } = retrainEvaluateRegisterCanary;
    const workflow = buildPipeline({
      ...once,
      name: 'shoe-brand-retrain-manual',
      runId: 'manual-1',
    });
    expect(workflow.kind).toBe('Workflow');
    expect(workflow.metadata.labels!['kubeai.io/run']).toBe('manual-1');
    for (const object of [cron, workflow]) {
      const { sets, report } = validateAgainstAllCrdSets(object);
      expect(sets).toEqual(['top', 'newest']);
      expect(report).toBe('');
    }
  });

  it('supports every training kind, promote, and TrainJob waits', () => {
    const pipeline = buildPipeline({
      name: 'all-kinds',
      namespace: 'team-a',
      modelRef: 'shoe-brand',
      steps: [
        {
          name: 'job',
          type: 'training',
          training: {
            kind: 'Job',
            image: 'python:3.12',
            command: ['python', '-c', 'print(1)'],
            backoffLimit: 2,
          },
        },
        {
          name: 'tf',
          type: 'training',
          dependsOn: ['job'],
          training: {
            kind: 'TFJob',
            image: 'tf:2',
            replicas: { Chief: 1, Worker: 2 },
            gang: {},
          },
        },
        {
          name: 'xgb',
          type: 'training',
          dependsOn: ['job'],
          training: {
            kind: 'XGBoostJob',
            image: 'xgb:2',
            replicas: { Worker: 1 },
          },
        },
        {
          name: 'trainjob',
          type: 'training',
          dependsOn: ['tf', 'xgb'],
          training: {
            kind: 'TrainJob',
            runtimeRef: { name: 'torch-distributed' },
            activeDeadlineSeconds: 3600,
          },
        },
        {
          name: 'deploy',
          type: 'deployCanary',
          dependsOn: ['trainjob'],
          inferenceService: {
            name: 'shoe-brand',
            modelVersion: 7,
            canaryTrafficPercent: 50,
          },
        },
        {
          name: 'promote',
          type: 'promote',
          dependsOn: ['deploy'],
          inferenceService: 'shoe-brand',
        },
      ],
    });
    const wf = pipeline.spec as any;
    const tasks = template(wf, 'main').dag.tasks;
    expect(tasks.map((t: any) => [t.name, t.dependencies ?? []])).toEqual([
      ['job', []],
      ['tf', ['job']],
      ['xgb', ['job']],
      ['trainjob', ['tf', 'xgb']],
      ['trainjob-wait', ['trainjob']],
      ['deploy', ['trainjob-wait']],
      ['promote', ['deploy']],
    ]);
    expect(template(wf, 'job').resource).toMatchObject({
      successCondition: 'status.succeeded > 0',
      failureCondition: 'status.failed > 2',
    });
    expect(template(wf, 'tf').resource.successCondition).toBe(
      'status.replicaStatuses.Chief.succeeded > 0',
    );
    expect(template(wf, 'trainjob-wait').container).toEqual({
      image: 'bitnami/kubectl:1.31',
      command: ['kubectl'],
      args: [
        'wait',
        '--for=condition=Complete',
        '--timeout=3600s',
        '--namespace',
        'team-a',
        'trainjobs.trainer.kubeflow.org/{{inputs.parameters.name}}',
      ],
    });
    expect(tasks[4].arguments).toEqual({
      parameters: [
        { name: 'name', value: '{{tasks.trainjob.outputs.parameters.name}}' },
      ],
    });
    // the promotion goes through the API (a recorded revision), not a patch of the object
    expect(template(wf, 'promote').container.args).toEqual([
      'promote',
      '--service',
      'shoe-brand',
      '--message',
      'Promoted by pipeline all-kinds ({{workflow.name}})',
    ]);
    const trainJob = YAML.parse(template(wf, 'trainjob').resource.manifest);
    expect(validateAgainstAllCrdSets(trainJob).report).toBe('');
    const { report } = validateAgainstAllCrdSets(pipeline);
    expect(report).toBe('');
  });

  it('rejects unsafe or inconsistent pipelines', () => {
    const issues = (patch: Partial<PipelineInput>) => {
      const result = pipelineInputSchema.safeParse({
        ...retrainEvaluateRegisterCanary,
        ...patch,
      });
      return result.success
        ? []
        : result.error.issues.map(i => `${i.path.join('.')}: ${i.message}`);
    };
    const steps = retrainEvaluateRegisterCanary.steps;
    expect(issues({})).toEqual([]);
    expect(issues({ schedule: '0 2 * *' })).toEqual([
      expect.stringContaining('schedule: must have 5 fields'),
    ]);
    expect(issues({ steps: [steps[1]] })).toEqual([
      expect.stringContaining('unknown step "retrain"'),
    ]);
    expect(
      issues({
        steps: [
          steps[0],
          { ...steps[1], args: ['{{=sprig.env("TOKEN")}}'] } as any,
        ],
      }),
    ).toEqual([
      expect.stringContaining(
        'placeholder "{{=sprig.env("TOKEN")}}" is not allowed',
      ),
    ]);
    expect(
      issues({
        steps: [
          steps[0],
          { ...steps[1], args: ['{{workflow.parameters.nope}}'] } as any,
        ],
      }),
    ).toEqual([expect.stringContaining('unknown workflow parameter "nope"')]);
    expect(issues({ steps: [steps[0], steps[0]] })).toEqual([
      expect.stringContaining('duplicate step "retrain"'),
    ]);
    expect(
      issues({
        steps: [
          {
            ...steps[0],
            training: { kind: 'CronJob', image: 'a:1', schedule: '@daily' },
          } as any,
        ],
      }),
    ).toEqual([expect.stringContaining('cannot be a CronJob')]);
    expect(
      issues({
        steps: [
          {
            ...steps[0],
            training: { kind: 'Job', image: 'a:1', command: 'python train.py' },
          } as any,
        ],
      })[0],
    ).toContain('steps.0.training.command');
    expect(
      issues({
        steps: [
          steps[0],
          {
            ...steps[1],
            when: '{{tasks.x.outputs.parameters.y}} > 1; rm -rf /',
          } as any,
        ],
      })[0],
    ).toContain('when');
    expect(
      issues({
        steps: [
          steps[0],
          steps[1],
          steps[2],
          {
            ...steps[3],
            inferenceService: {
              ...(steps[3] as any).inferenceService,
              canaryTrafficPercent: undefined,
            },
          } as any,
        ],
      }),
    ).toEqual([
      expect.stringContaining(
        'inferenceService.canaryTrafficPercent: Required',
      ),
    ]);
    expect(
      issues({
        steps: [
          steps[0],
          steps[1],
          steps[2],
          {
            ...steps[3],
            inferenceService: {
              ...(steps[3] as any).inferenceService,
              modelVersion: 'v {{workflow.name}}',
            },
          } as any,
        ],
      })[0],
    ).toContain('inferenceService.modelVersion');
    const { modelRef, ...withoutModel } = retrainEvaluateRegisterCanary;
    expect(
      pipelineInputSchema
        .safeParse(withoutModel)
        .error?.issues.map(i => i.path.join('.')),
    ).toEqual(['steps.2.modelRef', 'steps.3.inferenceService']);
  });
});
