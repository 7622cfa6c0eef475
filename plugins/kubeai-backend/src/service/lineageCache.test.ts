import {
  HELD_BYTES_PER_BODY_BYTE,
  LineageCache,
  lineageEtag,
  lineageScopes,
} from './lineageCache';

const valid = (token = 't') => ({
  token,
  scopes: ['*'],
  versions: new Map([['*', 0]]),
  localWrites: 0,
});
const graph = (value: object) => value as any;

describe('LineageCache', () => {
  it('holds an answer with what it was computed under, until dropped', () => {
    const cache = new LineageCache(1024 * 1024);
    const answer = cache.set('a', valid('1'), graph({ nodes: [{ id: 'x' }] }));
    expect(answer.body.toString()).toBe('{"nodes":[{"id":"x"}]}');
    expect(cache.peek('a')?.body).toEqual(answer.body);
    expect(cache.peek('a')?.validity.token).toBe('1');
    expect(cache.peek('a')?.graph).toEqual({ nodes: [{ id: 'x' }] });
    // the body and the graph held to patch it
    expect(cache.bytes).toBe(Math.ceil(22 * HELD_BYTES_PER_BODY_BYTE));
    cache.drop('a');
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it('keeps nothing for an answer computed while its scopes changed (no validity)', () => {
    const cache = new LineageCache(1024 * 1024);
    cache.set('a', valid(), graph({ n: 1 }));
    const answer = cache.set('a', undefined, graph({ n: 2 }));
    expect(answer.body.toString()).toBe('{"n":2}');
    expect(cache.peek('a')).toBeUndefined();
  });

  it('drops the least recently used answers beyond its size', () => {
    const cache = new LineageCache(1000);
    const value = (n: number) => graph({ pad: 'x'.repeat(n) });
    cache.set('a', valid(), value(80)); // 90 bytes of body each: 225 held
    cache.set('b', valid(), value(80));
    cache.set('c', valid(), value(80));
    cache.set('d', valid(), value(80));
    expect(cache.peek('a')).toBeDefined(); // a is now the most recent
    cache.set('e', valid(), value(80));
    expect(cache.peek('b')).toBeUndefined();
    expect(['a', 'c', 'd', 'e'].every(k => cache.peek(k))).toBe(true);
    expect(cache.bytes).toBeLessThanOrEqual(1000);
    expect(cache.size).toBe(4);
  });

  it('does not keep an answer larger than a quarter of its size', () => {
    const cache = new LineageCache(400);
    const answer = cache.set('big', valid(), graph({ pad: 'x'.repeat(200) }));
    expect(answer.body.length).toBeGreaterThan(100);
    expect(cache.peek('big')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe('lineageScopes', () => {
  it('are the entities, runs, task summaries and served artifacts of the nodes, and *', () => {
    expect(
      lineageScopes({
        nodes: [
          {
            id: 'model:default/Clf',
            type: 'model',
            entityRef: 'model:default/Clf',
            label: 'clf',
          },
          {
            id: 'model:default/clf@3',
            type: 'modelVersion',
            entityRef: 'model:default/clf',
            version: '3',
            label: 'clf v3',
          },
          { id: 'run:r1', type: 'run', runId: 'r1', label: 'train' },
          { id: 'run:p1/executions', type: 'run', label: '20 executions' },
          {
            id: 'inferenceservice:default/svc',
            type: 'service',
            entityRef: 'inferenceservice:default/svc',
            label: 'svc',
            observed: {
              storageUri: 's3://m/clf/3/',
              traffic: [{ storageUri: 's3://m/clf/2', percent: 10 }],
            },
          },
        ],
        edges: [],
      } as any),
    ).toEqual([
      '*',
      'artifact:s3://m/clf/2',
      'artifact:s3://m/clf/3',
      'inferenceservice:default/svc',
      'model:default/clf',
      'run:p1',
      'run:r1',
    ]);
  });
});

describe('lineageEtag', () => {
  it('is a weak tag of the query and the versions of its scopes', () => {
    const tag = lineageEtag('["model"]', '*=1');
    expect(tag).toMatch(/^W\/"lineage-[A-Za-z0-9_-]{27}"$/);
    expect(lineageEtag('["model"]', '*=1')).toBe(tag);
    expect(lineageEtag('["model"]', '*=2')).not.toBe(tag);
    expect(lineageEtag('["dataset"]', '*=1')).not.toBe(tag);
  });
});
