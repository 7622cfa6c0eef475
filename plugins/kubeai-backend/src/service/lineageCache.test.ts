import { LineageCache, lineageEtag } from './lineageCache';

describe('LineageCache', () => {
  it('answers for the token the answer was computed under', () => {
    const cache = new LineageCache(1024 * 1024);
    const answer = cache.set('a', '1', { nodes: [{ id: 'x' }] });
    expect(answer.body.toString()).toBe('{"nodes":[{"id":"x"}]}');
    expect(cache.get('a', '1')?.body).toEqual(answer.body);
    // another token: a write happened since, the answer is gone
    expect(cache.get('a', '2')).toBeUndefined();
    expect(cache.get('a', '1')).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it('drops the least recently used answers beyond its size', () => {
    const cache = new LineageCache(400);
    const value = (n: number) => ({ pad: 'x'.repeat(n) });
    cache.set('a', 't', value(80)); // 90 bytes each
    cache.set('b', 't', value(80));
    cache.set('c', 't', value(80));
    cache.set('d', 't', value(80));
    expect(cache.get('a', 't')).toBeDefined(); // a is now the most recent
    cache.set('e', 't', value(80));
    expect(cache.get('b', 't')).toBeUndefined();
    expect(['a', 'c', 'd', 'e'].every(k => cache.get(k, 't'))).toBe(true);
    expect(cache.bytes).toBeLessThanOrEqual(400);
    expect(cache.size).toBe(4);
  });

  it('does not keep an answer larger than a quarter of its size', () => {
    const cache = new LineageCache(400);
    const answer = cache.set('big', 't', { pad: 'x'.repeat(200) });
    expect(answer.body.length).toBeGreaterThan(100);
    expect(cache.get('big', 't')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe('lineageEtag', () => {
  it('is a weak tag of the query and the change token', () => {
    const tag = lineageEtag('["model"]', 'n:1');
    expect(tag).toMatch(/^W\/"lineage-[A-Za-z0-9_-]{27}"$/);
    expect(lineageEtag('["model"]', 'n:1')).toBe(tag);
    expect(lineageEtag('["model"]', 'n:2')).not.toBe(tag);
    expect(lineageEtag('["dataset"]', 'n:1')).not.toBe(tag);
  });
});
