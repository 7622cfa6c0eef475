import { jsonBody } from './jsonBody';

const reference = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('jsonBody', () => {
  it('is JSON.stringify in UTF-8, byte for byte, for a large lineage-like answer', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => ({
      id: `model:default/m@${i}`,
      type: 'modelVersion',
      label: i % 7 === 0 ? `Modèle ✓ “${i}” \n\t"quoted"\\ 🚀` : `m v${i}`,
      status: i % 3 === 0 ? undefined : 'live',
      observed:
        i % 5 === 0 ? { phase: 'Ready', traffic: [1, null, 2.5] } : null,
    }));
    const edges = Array.from({ length: 2049 }, (_, i) => ({
      from: `model:default/m@${i % 1000}`,
      to: 'model:default/m',
      type: 'versionOf',
      percent: i % 2 ? i / 3 : undefined,
    }));
    const graph = { roots: ['model:default/m'], nodes, edges };
    expect(jsonBody(graph).equals(reference(graph))).toBe(true);
  });

  it.each([
    [
      'an array exactly one slice long',
      { items: Array.from({ length: 256 }, (_, i) => i) },
    ],
    [
      'a slice and one more',
      { items: Array.from({ length: 257 }, (_, i) => [i]) },
    ],
    ['empty arrays and objects', { a: [], b: {}, c: [[]] }],
    [
      'members JSON leaves out',
      { a: undefined, f: () => 1, s: Symbol('x'), z: 1 },
    ],
    ['only left-out members', { a: undefined }],
    [
      'undefined and functions in a long array',
      { items: [...Array(300)].map((_, i) => (i % 2 ? undefined : () => i)) },
    ],
    ['keys that need escaping', { 'a"b\\c\n': [1], ü: 'ß' }],
    ['a top-level array', Array.from({ length: 600 }, (_, i) => ({ i }))],
    ['a string', 'plain ✓'],
    ['null', null],
    ['a number', 42],
    ['an object with toJSON', { toJSON: () => ({ replaced: true }) }],
    [
      'a Date member',
      {
        at: new Date(0),
        items: Array.from({ length: 300 }, () => new Date(1)),
      },
    ],
    [
      'an object without prototype',
      Object.assign(Object.create(null), { a: [...Array(400).keys()] }),
    ],
  ])('matches JSON.stringify for %s', (_name, value) => {
    expect(jsonBody(value).toString()).toBe(JSON.stringify(value));
    expect(jsonBody(value).equals(reference(value))).toBe(true);
  });
});
