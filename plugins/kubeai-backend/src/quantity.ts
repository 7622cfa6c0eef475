/**
 * Kubernetes quantities (`500m`, `64Gi`, `1.5`, `2e3`): one parser for what the portal reads from
 * task params, Kueue's Workloads and ClusterQueues, and routing rules.
 */

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};
const QUANTITY =
  /^\+?((?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** The factor of a binary (`Gi`) or decimal (`m`, `k`) suffix. */
export function suffixFactor(suffix: string): number | undefined {
  return BINARY[suffix] ?? DECIMAL[suffix];
}

/**
 * A quantity (or a plain number) in base units — cores, bytes, a count: `500m` → 0.5,
 * `4Gi` → 4 × 2³⁰. Undefined when it is no quantity or negative.
 */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const m = QUANTITY.exec(value.trim());
  if (!m) return undefined;
  const base = Number(m[1]) * (m[2] ? 10 ** Number(m[2].slice(1)) : 1);
  const n = m[3] ? base * suffixFactor(m[3])! : base;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * A quantity in the canonical unit of `resource` as Kueue counts it (millicores for `cpu`, else
 * the base unit), rounded up; undefined when it is none.
 */
export function canonicalQuantity(
  resource: string,
  value: unknown,
): number | undefined {
  const n = parseQuantity(value);
  if (n === undefined) return undefined;
  const scale = resource === 'cpu' ? 1000 : 1;
  // round before ceil: 0.1 * 1000 is 100.00000000000001 in binary floating point
  return Math.ceil(Math.round(n * scale * 1e6) / 1e6);
}
