import {
  parseTableUri,
  partitionSchema,
  partitionVersionName,
  tableEnvPrefix,
  tableInputArgs,
  tableInputEnv,
  tableInputsSchema,
  tableUri,
} from './tableInputs';
import { buildNotebook, notebookInputSchema } from './notebook';
import { buildPipeline, pipelineInputSchema } from './pipeline';
import { buildTraining, trainingInputSchema } from './training';

const orders = {
  name: 'order-facts',
  engine: 'odps' as const,
  project: 'biz_dw',
  table: 'dws_trade_order_1d',
  partition: 'ds=2026-12-01',
};

describe('table inputs', () => {
  it('gives engine, project, table, partition and uri as env named after the input', () => {
    expect(tableEnvPrefix('order-facts')).toBe('KUBEAI_INPUT_ORDER_FACTS_');
    expect(tableInputEnv([orders])).toEqual([
      { name: 'KUBEAI_INPUT_ORDER_FACTS_ENGINE', value: 'odps' },
      { name: 'KUBEAI_INPUT_ORDER_FACTS_PROJECT', value: 'biz_dw' },
      { name: 'KUBEAI_INPUT_ORDER_FACTS_TABLE', value: 'dws_trade_order_1d' },
      { name: 'KUBEAI_INPUT_ORDER_FACTS_PARTITION', value: 'ds=2026-12-01' },
      {
        name: 'KUBEAI_INPUT_ORDER_FACTS_URI',
        value: 'odps://biz_dw.dws_trade_order_1d/ds=2026-12-01',
      },
    ]);
    // a whole table: no partition variable
    expect(
      tableInputEnv([{ ...orders, partition: undefined }]).map(e => e.name),
    ).not.toContain('KUBEAI_INPUT_ORDER_FACTS_PARTITION');
  });

  it('gives arguments only to the inputs that ask for them', () => {
    expect(tableInputArgs([orders])).toEqual([]);
    expect(tableInputArgs([{ ...orders, args: true }])).toEqual([
      '--input-order-facts-project=biz_dw',
      '--input-order-facts-table=dws_trade_order_1d',
      '--input-order-facts-partition=ds=2026-12-01',
    ]);
  });

  it('writes and reads table uris', () => {
    expect(tableUri(orders)).toBe(
      'odps://biz_dw.dws_trade_order_1d/ds=2026-12-01',
    );
    expect(
      parseTableUri('hive://logistics_dw.dws_parcel_1d/ds=1/hh=00'),
    ).toEqual({
      engine: 'hive',
      project: 'logistics_dw',
      table: 'dws_parcel_1d',
      partition: 'ds=1/hh=00',
    });
    expect(parseTableUri('odps://biz_dw.orders')).toEqual({
      engine: 'odps',
      project: 'biz_dw',
      table: 'orders',
    });
    expect(parseTableUri('s3://bucket/orders')).toBeUndefined();
    expect(
      parseTableUri('odps://biz_dw.orders/not a partition'),
    ).toBeUndefined();
  });

  it('names the version of a partition after its values', () => {
    expect(partitionVersionName('ds=2026-12-01')).toBe('2026-12-01');
    expect(partitionVersionName('ds=20261201/hh=00')).toBe('20261201_00');
    expect(partitionVersionName('ds=20261201,hh=00')).toBe('20261201_00');
    expect(partitionVersionName('ts=2026-12-01T00:00')).toBe(
      '2026-12-01T00-00',
    );
    // no valid name: the registry picks v<n>
    expect(partitionVersionName('ds=-')).toBeUndefined();
    expect(partitionVersionName(`ds=${'1'.repeat(70)}`)).toBeUndefined();
  });

  it('accepts partitions as the warehouses write them and refuses the rest', () => {
    for (const ok of ['ds=2026-12-01', 'ds=20261201/hh=00', 'ds=1,region=cn']) {
      expect(partitionSchema.safeParse(ok).success).toBe(true);
    }
    for (const bad of [
      '2026-12-01',
      'ds=',
      'ds=a b',
      "ds='1'",
      'ds=${bizdate}',
      'ds=1/',
      'ds=1\u0000',
    ]) {
      expect(partitionSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('refuses two inputs of one name', () => {
    const parsed = tableInputsSchema.safeParse([orders, orders]);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: [1, 'name'] });
  });
});

describe('training with table inputs', () => {
  const base = {
    name: 'forecast-gmv',
    namespace: 'forecasting',
    image: 'ghcr.io/acme/prophet:1.2',
    args: ['--horizon', '28'],
    env: [{ name: 'HORIZON', value: '28' }],
    tables: [{ ...orders, args: true }],
  };

  it('puts the tables in the env and args of every training container', () => {
    for (const input of [
      { ...base, kind: 'Job' },
      { ...base, kind: 'CronJob', schedule: '0 6 * * *' },
      { ...base, kind: 'PyTorchJob', replicas: { Master: 1, Worker: 2 } },
    ]) {
      const built = buildTraining(trainingInputSchema.parse(input) as any);
      const workload = built[built.length - 1] as any;
      const podSpecs: Record<string, () => any[]> = {
        Job: () => [workload.spec.template.spec],
        CronJob: () => [workload.spec.jobTemplate.spec.template.spec],
        PyTorchJob: () =>
          Object.values(workload.spec.pytorchReplicaSpecs).map(
            (r: any) => r.template.spec,
          ),
      };
      const specs = podSpecs[input.kind]();
      expect(specs.length).toBeGreaterThan(0);
      for (const spec of specs) {
        const [container] = spec.containers;
        expect(container.env).toEqual([
          { name: 'HORIZON', value: '28' },
          ...tableInputEnv(base.tables),
        ]);
        expect(container.args).toEqual([
          '--horizon',
          '28',
          ...tableInputArgs(base.tables),
        ]);
        // read, not mounted
        expect(spec.volumes).toBeUndefined();
      }
    }
  });

  it('gives a TrainJob trainer the same env and args', () => {
    const built = buildTraining(
      trainingInputSchema.parse({
        ...base,
        kind: 'TrainJob',
        runtimeRef: { name: 'torch-distributed' },
      }) as any,
    );
    const trainer = (built[built.length - 1] as any).spec.trainer;
    expect(trainer.env).toEqual([
      { name: 'HORIZON', value: '28' },
      ...tableInputEnv(base.tables),
    ]);
    expect(trainer.args).toEqual([
      '--horizon',
      '28',
      ...tableInputArgs(base.tables),
    ]);
  });

  it('refuses env the table inputs set', () => {
    const parsed = trainingInputSchema.safeParse({
      ...base,
      kind: 'Job',
      env: [{ name: 'KUBEAI_INPUT_ORDER_FACTS_TABLE', value: 'x' }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['env', 0, 'name'],
        message: '"KUBEAI_INPUT_ORDER_FACTS_TABLE" is set by a table input',
      }),
    ]);
  });
});

describe('notebooks and pipeline steps with table inputs', () => {
  const notebook = {
    name: 'orders-explore',
    namespace: 'team-a',
    image: 'jupyter/base-notebook:latest',
    env: [{ name: 'HF_HOME', value: '/tmp/hf' }],
    tables: [orders],
  };
  const pipeline = (step: Record<string, unknown>) => ({
    name: 'orders-pipeline',
    namespace: 'team-a',
    steps: [
      {
        name: 'features',
        type: 'container',
        image: 'python:3.12',
        args: ['--fast'],
        tables: [{ ...orders, args: true }],
        ...step,
      },
    ],
  });

  it('gives the notebook container the env after its own', () => {
    const [nb] = buildNotebook(notebook);
    expect((nb.spec as any).template.spec.containers[0].env).toEqual([
      { name: 'HF_HOME', value: '/tmp/hf' },
      ...tableInputEnv([orders]),
    ]);
  });

  it('refuses notebook arguments and env the tables set', () => {
    const issues = (input: object) =>
      notebookInputSchema
        .safeParse(input)
        .error?.issues.map(i => i.path.join('/'));
    expect(
      issues({ ...notebook, tables: [{ ...orders, args: true }] }),
    ).toEqual(['tables/0/args']);
    expect(
      issues({
        ...notebook,
        env: [{ name: 'KUBEAI_INPUT_ORDER_FACTS_URI', value: 'x' }],
      }),
    ).toEqual(['env/0/name']);
  });

  it("gives a pipeline container step's template the env and args", () => {
    const workflow = buildPipeline(pipeline({}) as any);
    const template = (workflow.spec as any).templates.find(
      (t: any) => t.name === 'features',
    );
    expect(template.container.env).toEqual(tableInputEnv([orders]));
    expect(template.container.args).toEqual([
      '--fast',
      ...tableInputArgs([{ ...orders, args: true }]),
    ]);
  });

  it('refuses step env the tables set', () => {
    const result = pipelineInputSchema.safeParse(
      pipeline({
        env: [{ name: 'KUBEAI_INPUT_ORDER_FACTS_TABLE', value: 'x' }],
      }),
    );
    expect(result.error?.issues.map(i => i.path.join('/'))).toEqual([
      'steps/0/env/0/name',
    ]);
  });
});
