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
