import { canonicalQuantity, parseQuantity } from './quantity';

const GI = 2 ** 30;

describe('parseQuantity: base units (cores, bytes, a count)', () => {
  it.each([
    ['500m', 0.5],
    ['2', 2],
    [3, 3],
    ['2Gi', 2 * GI],
    ['1G', 1e9],
    ['1.5k', 1500],
    ['2e3', 2000],
    ['+4', 4],
    [' 250m ', 0.25],
    ['.5', 0.5],
  ])('%p → %p', (value, expected) => {
    expect(parseQuantity(value)).toBe(expected);
  });

  it.each([['lots'], [-1], ['-1'], ['5 Gi'], [''], [undefined], [null], [{}]])(
    '%p is no quantity',
    value => {
      expect(parseQuantity(value)).toBeUndefined();
    },
  );
});

describe('canonicalQuantity: exact integers as Kueue counts (CPU in millicores)', () => {
  it('reads CPU in millicores and the rest in base units, rounded up', () => {
    expect(canonicalQuantity('cpu', '500m')).toBe(500);
    expect(canonicalQuantity('cpu', '0.1')).toBe(100);
    expect(canonicalQuantity('cpu', 2)).toBe(2000);
    expect(canonicalQuantity('cpu', '1u')).toBe(1);
    expect(canonicalQuantity('memory', '64Gi')).toBe(64 * GI);
    expect(canonicalQuantity('memory', '1e3')).toBe(1000);
    expect(canonicalQuantity('memory', '1.5k')).toBe(1500);
    expect(canonicalQuantity('nvidia.com/gpu', '4')).toBe(4);
    expect(canonicalQuantity('cpu', 'lots')).toBeUndefined();
  });
});
