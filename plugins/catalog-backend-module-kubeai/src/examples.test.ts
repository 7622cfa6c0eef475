import {
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  Entity,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  stringifyEntityRef,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';
import {
  getKubeaiEntityRelations,
  isKubeaiKind,
  validateKubeaiEntity,
} from '@kubeai/plugin-kubeai-common';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const repoRoot = path.resolve(__dirname, '../../..');

/** Reads a catalog file and, for a Location, the files it targets. */
function readCatalog(file: string): Array<{ file: string; entity: Entity }> {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8')).map(
    d => d.toJS() as Entity,
  );
  return docs.flatMap(entity => {
    const self = [{ file: path.relative(repoRoot, file), entity }];
    if (entity.kind !== 'Location') {
      return self;
    }
    const targets = (entity.spec?.targets as string[] | undefined) ?? [];
    return [
      ...self,
      ...targets.flatMap(t => readCatalog(path.resolve(path.dirname(file), t))),
    ];
  });
}

const builtinValidators = [
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
];

async function isValid(entity: Entity): Promise<boolean> {
  if (isKubeaiKind(entity.kind)) {
    return validateKubeaiEntity(entity) !== false; // throws with the reason
  }
  for (const validator of builtinValidators) {
    if (await validator.check(entity)) {
      return true;
    }
  }
  return false;
}

/** The YAML of each kind in a Markdown file (docs/entity-reference.md, README.md). */
function readDocExamples(file: string): Entity[] {
  const markdown = fs.readFileSync(path.join(repoRoot, file), 'utf8');
  return [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .flatMap(m => parseAllDocuments(m[1]).map(doc => doc.toJS()))
    .filter(doc => doc?.apiVersion === 'kubeai.io/v1alpha1');
}

const examples = readCatalog(path.join(repoRoot, 'examples/all.yaml'));
const repoEntity = readCatalog(path.join(repoRoot, 'catalog-info.yaml'));

describe('examples/', () => {
  it.each(
    [...examples, ...repoEntity].map(({ file, entity }) => [
      stringifyEntityRef(entity),
      file,
      entity,
    ]),
  )('%s (%s) is valid', async (_ref, _file, entity) => {
    await expect(isValid(entity as Entity)).resolves.toBe(true);
  });

  it.each(
    ['docs/entity-reference.md', 'README.md'].flatMap(file =>
      readDocExamples(file).map(e => [e.kind, file, e]),
    ),
  )('the %s of %s is valid', async (_kind, _file, entity) => {
    await expect(isValid(entity as Entity)).resolves.toBe(true);
  });

  it('covers the four scenarios', () => {
    const count = (kind: string) =>
      examples.filter(e => e.entity.kind === kind).length;
    expect(count('Model')).toBe(17);
    expect(count('Dataset')).toBe(14);
    expect(count('InferenceService')).toBe(3);

    const prophet = examples.filter(
      e => e.entity.kind === 'Model' && e.entity.spec?.framework === 'prophet',
    );
    expect(prophet).toHaveLength(12);
    for (const { entity } of prophet) {
      expect(entity.spec?.trainedOn).toEqual(
        expect.arrayContaining([expect.stringMatching(/^dataset:/)]),
      );
    }
  });

  it('has unique entity refs', () => {
    const refs = examples.map(e => stringifyEntityRef(e.entity));
    expect(new Set(refs).size).toBe(refs.length);
  });

  it('only references entities that exist (no dangling relations)', () => {
    const known = new Set(
      [...examples, ...repoEntity].map(e => stringifyEntityRef(e.entity)),
    );
    const dangling = [...examples, ...repoEntity]
      .flatMap(e => getKubeaiEntityRelations(e.entity))
      .map(r => stringifyEntityRef(r.target))
      .filter(ref => !known.has(ref));
    expect(dangling).toEqual([]);
  });
});

/**
 * The forecasting scenario's pools and periodic tasks (examples/forecasting, issue 15): what
 * clusterRoutes.forecasting.test.ts of the backend applies through the real routes.
 */
describe('examples/forecasting', () => {
  const readYaml = (file: string) =>
    parseAllDocuments(
      fs.readFileSync(path.join(repoRoot, file), 'utf8'),
    )[0].toJS();
  const indicators = readYaml('examples/forecasting/indicators.yaml').items;
  const pools = readYaml('examples/forecasting/pools.yaml');
  const values = readYaml('examples/forecasting/team-pool-values.yaml');
  const appConfig = readYaml('app-config.yaml');
  const routing = appConfig.kubeai.pools.routing;
  const prophet = examples
    .map(e => e.entity)
    .filter(e => e.kind === 'Model' && e.spec?.framework === 'prophet');

  /** The flavor app-config's rule picks for a task (poolRouting.ts `flavorFor`, restated). */
  const flavorFor = (resources: { cpu: string; gpu?: number }) => {
    const cores = resources.cpu.endsWith('m')
      ? Number(resources.cpu.slice(0, -1)) / 1000
      : Number(resources.cpu);
    const gpus = resources.gpu ?? 0;
    return (
      routing.flavors.find(
        (r: any) =>
          (r.maxCpu === undefined || cores <= r.maxCpu) &&
          (r.minGpu === undefined || gpus >= r.minGpu) &&
          (r.maxGpu === undefined || gpus <= r.maxGpu),
      )?.flavor ?? routing.defaultFlavor
    );
  };

  it('runs each of the 12 indicators as a periodic task at its Model schedule, in its namespace, on its datasets', () => {
    expect(indicators).toHaveLength(12);
    expect(indicators.map((i: any) => i.modelRef).sort()).toEqual(
      prophet.map(m => stringifyEntityRef(m)).sort(),
    );
    for (const model of prophet) {
      const item = indicators.find(
        (i: any) => i.modelRef === stringifyEntityRef(model),
      );
      const annotations = model.metadata.annotations!;
      expect(item).toMatchObject({
        kind: 'CronJob',
        name: model.metadata.name,
        schedule: annotations['kubeai.io/training-schedule'],
        cluster: annotations['kubeai.io/cluster'],
        namespace: annotations['kubeai.io/namespace'],
      });
      expect(item.datasets.map((d: any) => d.datasetRef)).toEqual(
        model.spec?.trainedOn,
      );
    }
  });

  it('leaves the queue to routing: every indicator on the elastic flavor with the production priority', () => {
    expect(routing.priorityClasses.periodic).toBe('production');
    for (const item of indicators) {
      expect([item.name, item.queue]).toEqual([item.name, undefined]);
      expect([item.name, flavorFor(item.resources)]).toEqual([
        item.name,
        'elastic',
      ]);
    }
  });

  it('has the pools for it: three flavors, production and development, the team queue in a shared cohort with elastic quota where the indicators run', () => {
    expect(pools.flavors.map((f: any) => f.name)).toEqual([
      'elastic',
      'regular',
      'gpu',
    ]);
    expect(pools.priorityClasses.map((p: any) => p.name)).toEqual([
      'production',
      'development',
    ]);
    const [team] = pools.teams;
    expect(team).toMatchObject({ name: 'biz-forecasting', cohort: 'shared' });
    expect(new Set(indicators.map((i: any) => i.namespace))).toEqual(
      new Set(team.namespaces),
    );
    const elastic = team.quotas.find((q: any) => q.flavor === 'elastic');
    // the 12 run in the morning, a few at a time: at least one fits the nominal quota
    expect(Number(elastic.nominal.cpu)).toBeGreaterThanOrEqual(
      Number(indicators[0].resources.cpu),
    );
    // the namespace is the team's (kubeai.tenancy of app-config.yaml), as the Models' owner says
    expect(appConfig.kubeai.tenancy.namespaces).toContainEqual({
      cluster: 'local',
      namespace: team.namespaces[0],
      owner: prophet[0].spec?.owner,
    });
  });

  it('is what the team-pool template applies with team-pool-values.yaml', () => {
    const template = readYaml('templates/team-pool/template.yaml');
    // `${{ parameters.x }}` as the whole value keeps the parameter's type (the scaffolder's rule)
    const unrendered: string[] = [];
    const render = (value: unknown): unknown => {
      if (typeof value === 'string') {
        const whole = value.match(/^\$\{\{ parameters\.(\w+) \}\}$/);
        if (whole) return values[whole[1]];
        if (value.includes('${{')) unrendered.push(value);
        return value;
      }
      if (Array.isArray(value)) return value.map(render);
      if (value && typeof value === 'object') {
        return Object.fromEntries(
          Object.entries(value).map(([k, v]) => [k, render(v)]),
        );
      }
      return value;
    };
    const step = template.spec.steps.find(
      (s: any) => s.action === 'kubeai:pools:apply',
    );
    expect(render(step.input)).toEqual(pools);
    expect(unrendered).toEqual([]);
    // every value the example gives is a parameter of the template
    const parameters = Object.assign(
      {},
      ...template.spec.parameters.map((p: any) => p.properties),
    );
    expect(Object.keys(values).filter(k => !(k in parameters))).toEqual([]);
  });
});
