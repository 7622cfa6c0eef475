/** The `kubeai:*` actions that create workloads and datasets: notebook, training job, dataset, pipeline. */
import {
  KubeaiActionDefinition,
  bodyFields,
  bodyOf,
  catalogEntityDescription,
  datasetMounts,
  dryRun,
  orList,
  pruneEmpty,
  replicaTypesText,
  writeOutput,
  writeOutputOf,
} from './actionParts';
import { TRAINING_WORKLOAD_KINDS } from '@kubeai/plugin-kubeai-common';
import { specComponent, specDescription, specSchema } from './specZod';

export const notebookCreate: KubeaiActionDefinition = {
  id: 'kubeai:notebook:create',
  name: 'create-notebook',
  title: 'Create a notebook',
  description:
    'Creates (or updates) a Kubeflow Notebook with CPU, memory and GPUs, a workspace volume and registered datasets mounted read-only, through the KubeAI API (`POST /api/kubeai/notebooks`), and records its run. Running it again changes nothing.',
  examples: [
    {
      title: 'A GPU notebook on the shoe images',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-brand-explore',
        image: 'kubeflownotebookswg/jupyter-pytorch-cuda-full:v1.9.0',
        resources: { cpu: '2', memory: '8Gi', gpu: 1 },
        workspaceSize: '20Gi',
        datasets: ['dataset:default/shoe-images'],
        modelRef: 'model:default/shoe-brand-classifier',
      },
    },
  ],
  input: z =>
    z.object({
      ...bodyFields(z, 'CreateNotebookRequest', [
        'cluster',
        'namespace',
        'name',
        'image',
        'resources',
      ]),
      // action-only: the spec's `workspace: { size, existingClaim }`, flat for template forms
      workspaceSize: specSchema(z, 'MemoryQuantity')
        .optional()
        .describe('Size of a new workspace volume, e.g. "20Gi".'),
      workspaceClaim: specSchema(z, 'DnsSubdomain')
        .optional()
        .describe('An existing PVC to use as the workspace instead.'),
      ...bodyFields(
        z,
        'CreateNotebookRequest',
        [
          'datasets',
          'modelRef',
          'entityRef',
          'env',
          'serviceAccountName',
          'queue',
          'overrideBudget',
        ],
        {
          serviceAccountName: 'ServiceAccount of the notebook pod.',
          queue:
            "Kueue: the namespace's LocalQueue unless `name` is given; `flavor` and `priorityClass` override the routing rule.",
        },
      ),
      dryRun: dryRun(z),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const {
      workspaceSize,
      workspaceClaim,
      datasets: ds,
      ...rest
    } = bodyOf(input, options);
    const result = await client.createNotebook(
      {
        ...(rest as any),
        datasets: datasetMounts(ds),
        workspace:
          workspaceSize || workspaceClaim
            ? pruneEmpty({ size: workspaceSize, existingClaim: workspaceClaim })
            : undefined,
      },
      { token: options.token },
    );
    return writeOutputOf(result);
  },
};

export const jobCreate: KubeaiActionDefinition = {
  id: 'kubeai:job:create',
  name: 'create-training-job',
  title: 'Create a training task',
  description: `Creates (or updates) a training task — ${orList(
    TRAINING_WORKLOAD_KINDS.map(kind =>
      kind === 'CronJob' ? 'CronJob (periodic, `schedule`)' : kind,
    ),
  )} — with resources, GPUs, registered datasets, Kueue queue and Volcano gang scheduling, through the KubeAI API (\`POST /api/kubeai/jobs\`), and records its run. Running it again changes nothing.`,
  examples: [
    {
      title: 'A daily Prophet forecast (CronJob) in the team queue',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'sales-forecast-store-17',
        kind: 'CronJob',
        schedule: '0 6 * * *',
        image: 'ghcr.io/acme/prophet-forecast:1.2',
        command: ['python', '-m', 'forecast'],
        args: ['--series', 'store-17'],
        resources: { cpu: '500m', memory: '1Gi' },
        queue: { name: 'team-a-queue' },
        modelRef: 'model:default/sales-forecast',
      },
    },
    {
      title: 'A distributed PyTorchJob with 2 GPU workers',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'train-shoe-brand',
        kind: 'PyTorchJob',
        image: 'ghcr.io/acme/shoe-trainer:1.4',
        command: ['torchrun', 'train.py'],
        replicas: { Worker: 2 },
        resources: { cpu: '4', memory: '16Gi', gpu: 1 },
        datasets: ['dataset:default/shoe-images'],
      },
    },
  ],
  input: z =>
    z.object({
      ...bodyFields(
        z,
        'CreateJobRequest',
        [
          'cluster',
          'namespace',
          'name',
          'kind',
          'image',
          'command',
          'args',
          'resources',
          'datasets',
          'schedule',
          'timeZone',
          'replicas',
          'queue',
          'gang',
          'env',
          'modelRef',
          'entityRef',
          'params',
          'overrideBudget',
        ],
        {
          kind: 'The workload kind.',
          schedule: 'CronJob: cron schedule, e.g. "0 6 * * *".',
          timeZone: 'CronJob: IANA time zone.',
          replicas: `Replicas per type: ${replicaTypesText()}`,
        },
      ),
      // action-only: the other fields of the request body, passed through
      options: z
        .record(z.string(), z.unknown())
        .optional()
        .describe(
          'Further fields of `POST /api/kubeai/jobs` (backoffLimit, parallelism, nprocPerNode, runtimeRef, …).',
        ),
      dryRun: dryRun(z),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const { options: more, datasets: ds, ...rest } = bodyOf(input, options);
    const result = await client.createJob(
      { ...(more ?? {}), ...(rest as any), datasets: datasetMounts(ds) },
      { token: options.token },
    );
    return writeOutputOf(result);
  },
};

export const datasetCreate: KubeaiActionDefinition = {
  id: 'kubeai:dataset:create',
  name: 'create-dataset',
  title: 'Create a dataset',
  description:
    'Creates a dataset in a cluster — a PVC, or a Fluid Dataset with an Alluxio / JuiceFS cache over OSS, S3, NAS or a PVC (a table is only registered) — through the KubeAI API (`POST /api/kubeai/datasets`), records its version and, with `catalogEntity`, registers the Dataset entity in the catalog.',
  examples: [
    {
      title:
        'Shoe images on OSS behind an Alluxio cache, registered in the catalog',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-images',
        source: {
          type: 'oss',
          bucket: 'shoe-data',
          path: 'images/v3',
          endpoint: 'oss-cn-hangzhou.aliyuncs.com',
          credentials: { secretName: 'oss-creds' },
        },
        cache: { runtime: 'alluxio', quota: '20Gi' },
        catalogEntity: { owner: 'group:default/cv-team' },
      },
    },
  ],
  input: z =>
    z.object({
      ...bodyFields(
        z,
        'CreateDatasetRequest',
        [
          'cluster',
          'namespace',
          'name',
          'source',
          'cache',
          'datasetRef',
          'catalogEntity',
          'version',
          'description',
        ],
        {
          datasetRef: 'An existing Dataset entity to record the version under.',
          catalogEntity: catalogEntityDescription('Dataset'),
          version: 'Version name (default: the next v<n>).',
        },
      ),
      dryRun: dryRun(z),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const result = await client.createDataset(bodyOf(input, options) as any, {
      token: options.token,
    });
    return writeOutputOf(result);
  },
};

export const pipelineCreate: KubeaiActionDefinition = {
  id: 'kubeai:pipeline:create',
  name: 'create-pipeline',
  title: 'Create a pipeline',
  description:
    'Creates an Argo Workflow (or, with `schedule`, a CronWorkflow) of KubeAI steps — container, training, registerModelVersion, deployCanary, promote — through the KubeAI API (`POST /api/kubeai/pipelines`), and records its run. E.g. retrain → evaluate → register → canary.',
  examples: [
    {
      title: 'Nightly retrain → evaluate → register → 10 % canary',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-brand-retrain',
        modelRef: 'model:default/shoe-brand-classifier',
        schedule: '0 2 * * *',
        steps: [
          {
            name: 'retrain',
            type: 'training',
            training: {
              kind: 'PyTorchJob',
              image: 'ghcr.io/acme/shoe-trainer:1.4',
              command: ['python', '-m', 'shoe.train'],
              replicas: { Worker: 2 },
            },
          },
          {
            name: 'evaluate',
            type: 'container',
            dependsOn: ['retrain'],
            image: 'ghcr.io/acme/shoe-trainer:1.4',
            command: ['python', '-m', 'shoe.evaluate'],
            outputs: [{ name: 'accuracy', path: '/tmp/accuracy' }],
          },
        ],
      },
    },
  ],
  input: z =>
    z.object({
      ...bodyFields(
        z,
        'CreatePipelineRequest',
        [
          'cluster',
          'namespace',
          'name',
          'modelRef',
          'entityRef',
          'schedule',
          'timeZone',
          'parameters',
          'serviceAccountName',
          'steps',
          'overrideBudget',
        ],
        {
          schedule: 'Cron schedule: a CronWorkflow instead of one Workflow.',
          parameters: 'Workflow parameters ({{workflow.parameters.<name>}}).',
          serviceAccountName: 'ServiceAccount the pods run as.',
          steps: `The steps; see POST /api/kubeai/pipelines. ${specDescription(
            specComponent('PipelineStepInput'),
          )}`,
        },
      ),
      dryRun: dryRun(z),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const body = bodyOf(input, options);
    body.steps = (body.steps ?? []).map((step: Record<string, any>) =>
      step.datasets
        ? { ...step, datasets: datasetMounts(step.datasets) }
        : step,
    );
    const result = await client.createPipeline(body as any, {
      token: options.token,
    });
    return writeOutputOf(result);
  },
};
