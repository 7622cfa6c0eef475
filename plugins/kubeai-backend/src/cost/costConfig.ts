/**
 * `kubeai.cost`: the price table (per CPU core-hour, memory GiB-hour and GPU-hour, per flavor of
 * the pools, and a default for runs without a flavor or of an unlisted one), the currency, and the
 * monthly budgets of teams. Read once at startup: a bad value stops the backend naming its key.
 */
import type { Config } from '@backstage/config';

/** The config key, named by every message about it. */
export const COST_KEY = 'kubeai.cost';

export interface Prices {
  cpuHour: number;
  memoryGiBHour: number;
  gpuHour: number;
}

export interface Budget {
  /** The team (group ref, lower-case). */
  team: string;
  /** Per calendar month (UTC), in the currency. */
  monthly: number;
}

export interface CostConfig {
  currency: string;
  /** Prices per flavor (ResourceFlavor name). */
  flavors: Map<string, Prices>;
  /** Prices of a run without a flavor or of a flavor not listed. */
  default: Prices;
  budgets: Map<string, Budget>;
  /** Share of a budget from which the portal warns (default 0.8). */
  warnAt: number;
}

const FREE: Prices = { cpuHour: 0, memoryGiBHour: 0, gpuHour: 0 };
const PRICE_KEYS = ['cpuHour', 'memoryGiBHour', 'gpuHour'] as const;
const GROUP_REF = /^group:[a-z0-9._-]+\/[a-z0-9._-]+$/i;

function fail(key: string, message: string, value: unknown): never {
  throw new Error(`${key}: ${message}, got ${JSON.stringify(value)}`);
}

function nonNegative(key: string, raw: unknown): number {
  const value =
    typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(key, 'must be a number ≥ 0', raw);
  }
  return value;
}

function readPrices(config: Config | undefined, key: string): Prices {
  if (!config) return { ...FREE };
  for (const k of config.keys()) {
    if (!(PRICE_KEYS as readonly string[]).includes(k)) {
      fail(`${key}.${k}`, `unknown price (known: ${PRICE_KEYS.join(', ')})`, k);
    }
  }
  const out = { ...FREE };
  for (const k of PRICE_KEYS) {
    const raw = config.getOptional(k);
    if (raw !== undefined) out[k] = nonNegative(`${key}.${k}`, raw);
  }
  return out;
}

/**
 * Reads `kubeai.cost`. Unset: no prices (every cost 0, no budgets) — the API still answers.
 * Anything malformed throws an error naming the key.
 */
export function readCostConfig(config: Config): CostConfig {
  const cost = config.getOptionalConfig(COST_KEY);
  const currency = cost?.getOptional('currency') ?? 'EUR';
  // an ISO 4217 code: it goes into messages and the ASCII-only Warning header
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    fail(
      `${COST_KEY}.currency`,
      'must be an ISO 4217 currency code such as EUR',
      currency,
    );
  }

  const flavors = new Map<string, Prices>();
  const flavorsConfig = cost?.getOptionalConfig('flavors');
  for (const name of flavorsConfig?.keys() ?? []) {
    const key = `${COST_KEY}.flavors.${name}`;
    if (typeof flavorsConfig!.getOptional(name) !== 'object') {
      fail(
        key,
        'must be an object of cpuHour, memoryGiBHour, gpuHour',
        flavorsConfig!.getOptional(name),
      );
    }
    flavors.set(name, readPrices(flavorsConfig!.getConfig(name), key));
  }
  const rawDefault = cost?.getOptional('default');
  if (rawDefault !== undefined && typeof rawDefault !== 'object') {
    fail(
      `${COST_KEY}.default`,
      'must be an object of cpuHour, memoryGiBHour, gpuHour',
      rawDefault,
    );
  }
  const defaults = readPrices(
    cost?.getOptionalConfig('default'),
    `${COST_KEY}.default`,
  );
  const warnAt =
    cost?.getOptional('warnAt') === undefined
      ? 0.8
      : nonNegative(`${COST_KEY}.warnAt`, cost.getOptional('warnAt'));
  if (warnAt > 1)
    fail(`${COST_KEY}.warnAt`, 'must be a share from 0 to 1', warnAt);
  const budgets = new Map<string, Budget>();
  const rawBudgets = cost?.getOptional('budgets');
  if (rawBudgets !== undefined && !Array.isArray(rawBudgets)) {
    fail(
      `${COST_KEY}.budgets`,
      'must be a list of { team, monthly }',
      rawBudgets,
    );
  }
  (cost?.getOptionalConfigArray('budgets') ?? []).forEach((entry, i) => {
    const key = `${COST_KEY}.budgets[${i}]`;
    const team = entry.getOptional('team');
    if (typeof team !== 'string' || !GROUP_REF.test(team)) {
      fail(
        `${key}.team`,
        'must be a group reference (group:<namespace>/<name>)',
        team,
      );
    }
    const ref = team.toLowerCase();
    if (budgets.has(ref)) fail(`${key}.team`, 'has a budget already', team);
    const raw = entry.getOptional('monthly');
    if (raw === undefined) fail(`${key}.monthly`, 'is required', raw);
    budgets.set(ref, {
      team: ref,
      monthly: nonNegative(`${key}.monthly`, raw),
    });
  });
  return { currency, flavors, default: defaults, budgets, warnAt };
}

/** The prices of `flavor` (the default for none or an unlisted one). */
export function pricesOf(
  config: CostConfig,
  flavor: string | null | undefined,
): Prices {
  return (flavor && config.flavors.get(flavor)) || config.default;
}
