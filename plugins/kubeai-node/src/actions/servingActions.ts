/** The `kubeai:*` actions of the registry and serving: register a model version, deploy, promote, roll back. */
import {
  JsonValue,
  KubeaiActionDefinition,
  Z,
  bodyFields,
  bodyOf,
  catalogEntityDescription,
  dryRun,
  parseRef,
  target,
  writeOutput,
  writeOutputOf,
} from './actionParts';
import { specComponent, specDescription, specSchema } from './specZod';

export const modelRegister: KubeaiActionDefinition = {
  id: 'kubeai:model:register',
  name: 'register-model-version',
  title: 'Register a model version',
  description:
    'Registers the next version of a Model in the KubeAI registry (`POST /api/kubeai/models/{namespace}/{name}/versions`): artifact, framework, metrics, parameters, tags and aliases. With dryRun it only checks that the model exists.',
  examples: [
    {
      title: 'Register an ONNX artifact as the canary',
      input: {
        model: 'model:default/shoe-brand-classifier',
        artifact: {
          uri: 's3://models/shoe-brand/8/model.onnx',
          format: 'onnx',
        },
        framework: 'pytorch',
        metrics: { auc: 0.95 },
        aliases: ['canary'],
      },
    },
  ],
  input: z =>
    z.object({
      // action-only: the path parameters of the request, as one entity ref
      model: specSchema(z, 'ModelRef').describe(
        `The Model entity. ${specDescription(specComponent('ModelRef'))}`,
      ),
      ...bodyFields(
        z,
        'CreateModelVersionRequest',
        [
          'artifact',
          'framework',
          'description',
          'metrics',
          'params',
          'tags',
          'aliases',
          'runId',
        ],
        { aliases: 'Aliases moved to the new version (e.g. "canary").' },
      ),
      dryRun: dryRun(z),
    }),
  output: z =>
    z.object({
      modelRef: z.string(),
      version: z
        .number()
        .optional()
        .describe('The assigned version number (absent on dry runs).'),
      objectRef: z.string().describe('`model:<namespace>/<name>@<version>`.'),
      url: z.string().describe('The model versions page.'),
      message: z.string(),
      dryRun: z.boolean(),
    }),
  async run(client, input, options): Promise<Record<string, JsonValue>> {
    const { model, dryRun: _d, ...request } = bodyOf(input, options);
    const entity = parseRef(String(input.model), 'model');
    const modelRef =
      `model:${entity.namespace}/${entity.name}`.toLocaleLowerCase('en-US');
    const url = `/catalog/${entity.namespace}/model/${entity.name}/versions`;
    if (options.dryRun || input.dryRun) {
      const list = await client.listModelVersions(
        entity,
        { limit: 1 },
        {
          token: options.token,
        },
      );
      const next = (list.items[0]?.version ?? 0) + 1;
      return {
        modelRef,
        objectRef: `${modelRef}@${next}`,
        url,
        message: `Would register version ${next} of ${modelRef} (${input.artifact.uri})`,
        dryRun: true,
      };
    }
    const created = await client.createModelVersion(entity, request as any, {
      token: options.token,
    });
    return {
      modelRef: created.modelRef,
      version: created.version,
      objectRef: `${created.modelRef}@${created.version}`,
      url,
      message: `Registered version ${created.version} of ${created.modelRef}`,
      dryRun: false,
    };
  },
};

export const inferenceServiceDeploy: KubeaiActionDefinition = {
  id: 'kubeai:inference-service:deploy',
  name: 'deploy-inference-service',
  title: 'Deploy a model version',
  description:
    'Deploys a registered model version (number or alias) as a KServe InferenceService: a new service, a full rollout, or a canary with `canaryTrafficPercent`, through the KubeAI API (`POST /api/kubeai/inference-services`). storageUri and model format come from the registry. Records the deployment revision and, with `catalogEntity`, registers the InferenceService entity.',
  examples: [
    {
      title: 'Deploy version 7 with autoscaling, registering the entity',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-brand',
        model: 'model:default/shoe-brand-classifier',
        modelVersion: 7,
        resources: { cpu: '1', memory: '2Gi' },
        minReplicas: 1,
        maxReplicas: 4,
        catalogEntity: { owner: 'group:default/cv-team' },
      },
    },
    {
      title: 'Canary the version aliased "candidate" at 10 %',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-brand',
        model: 'model:default/shoe-brand-classifier',
        modelVersion: 'candidate',
        canaryTrafficPercent: 10,
      },
    },
  ],
  input: z =>
    z.object({
      ...bodyFields(
        z,
        'DeployInferenceServiceRequest',
        [
          'cluster',
          'namespace',
          'name',
          'model',
          'modelVersion',
          'canaryTrafficPercent',
          'resources',
          'minReplicas',
          'maxReplicas',
          'runtime',
          'protocolVersion',
          'serviceRef',
          'catalogEntity',
          'message',
        ],
        {
          modelVersion: `${specDescription(
            specComponent('ModelVersionSelector'),
          )} (the ModelVersionPicker field)`,
          minReplicas: 'Fewest predictor replicas (0 scales to zero).',
          maxReplicas: 'Most predictor replicas.',
          runtime: 'A specific (Cluster)ServingRuntime.',
          protocolVersion: 'Inference protocol.',
          serviceRef: `The InferenceService entity (default inferenceservice:default/<name>). ${specDescription(
            specComponent('ServiceRef'),
          )}`,
          catalogEntity: catalogEntityDescription('InferenceService'),
        },
      ),
      dryRun: dryRun(z),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const body = bodyOf(input, options);
    if (
      typeof body.modelVersion === 'string' &&
      /^[0-9]+$/.test(body.modelVersion)
    ) {
      body.modelVersion = Number(body.modelVersion);
    }
    const result = await client.deployInferenceService(body as any, {
      token: options.token,
    });
    return writeOutputOf(result);
  },
};

const rolloutInput = (z: Z) => ({
  ...target(z, 'DeployInferenceServiceRequest'),
  ...bodyFields(z, 'PromoteInferenceServiceRequest', ['message']),
  dryRun: dryRun(z),
});

export const inferenceServicePromote: KubeaiActionDefinition = {
  id: 'kubeai:inference-service:promote',
  name: 'promote-inference-service',
  title: 'Promote a canary',
  description:
    'Gives the canary of an InferenceService all the traffic (`POST /api/kubeai/inference-services/{cluster}/{namespace}/{name}/promote`) and records the revision.',
  examples: [
    {
      title: 'Promote the canary of shoe-brand',
      input: { cluster: 'local', namespace: 'team-a', name: 'shoe-brand' },
    },
  ],
  input: z => z.object(rolloutInput(z)),
  output: writeOutput,
  async run(client, input, options) {
    const { cluster, namespace, name, ...rest } = bodyOf(input, options);
    const result = await client.promoteInferenceService(
      { cluster, namespace, name },
      rest,
      { token: options.token },
    );
    return writeOutputOf(result);
  },
};

export const inferenceServiceRollback: KubeaiActionDefinition = {
  id: 'kubeai:inference-service:rollback',
  name: 'rollback-inference-service',
  title: 'Roll back an inference service',
  description:
    'Rolls an InferenceService back to its stable version, or to `toVersion` (`POST /api/kubeai/inference-services/{cluster}/{namespace}/{name}/rollback`), with all the traffic, and records the revision.',
  examples: [
    {
      title: 'Roll shoe-brand back to the stable version',
      input: {
        cluster: 'local',
        namespace: 'team-a',
        name: 'shoe-brand',
        message: 'error rate up',
      },
    },
  ],
  input: z =>
    z.object({
      ...rolloutInput(z),
      ...bodyFields(z, 'RollbackInferenceServiceRequest', ['toVersion']),
    }),
  output: writeOutput,
  async run(client, input, options) {
    const { cluster, namespace, name, ...rest } = bodyOf(input, options);
    if (typeof rest.toVersion === 'string' && /^[0-9]+$/.test(rest.toVersion)) {
      rest.toVersion = Number(rest.toVersion);
    }
    const result = await client.rollbackInferenceService(
      { cluster, namespace, name },
      rest,
      { token: options.token },
    );
    return writeOutputOf(result);
  },
};
