import { parseEntityRef } from '@backstage/catalog-model';
import type { EntityName } from '@kubeai/plugin-kubeai-common';

/** `1.5 GiB`; `—` when unknown. */
export function formatBytes(size?: number): string {
  if (size === undefined || size === null || !Number.isFinite(size)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${
    units[unit]
  }`;
}

/** `2h 5m`, `41s`; `—` without a start. */
export function formatDuration(
  startedAt?: string,
  finishedAt?: string,
  now: number = Date.now(),
): string {
  const ms = durationMs(startedAt, finishedAt, now);
  if (ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Milliseconds between start and finish (or now while running). */
export function durationMs(
  startedAt?: string,
  finishedAt?: string,
  now: number = Date.now(),
): number | undefined {
  if (!startedAt) return undefined;
  const start = Date.parse(startedAt);
  const end = finishedAt ? Date.parse(finishedAt) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return undefined;
  return Math.max(0, end - start);
}

/** `2026-11-26 14:03` (local time); `—` when missing. */
export function formatDate(value?: string | null): string {
  if (!value) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(
    d.getHours(),
  )}:${pad(d.getMinutes())}`;
}

/** `just now`, `2 min ago`, `3 h ago`, `5 days ago`; the date after a month. */
export function formatAgo(value: string, now: number = Date.now()): string {
  const at = Date.parse(value);
  if (Number.isNaN(at)) return value;
  const s = Math.round((now - at) / 1000);
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d < 31) return `${d} ${d === 1 ? 'day' : 'days'} ago`;
  return formatDate(value);
}

/** A metric value with up to 4 significant decimals. */
export function formatMetric(value?: number): string {
  if (value === undefined || value === null || !Number.isFinite(value))
    return '—';
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toFixed(4)));
}

/** `{ namespace, name }` of an entity ref or entity. */
export function entityNameOf(
  ref: string | { metadata: { name: string; namespace?: string } },
): EntityName {
  if (typeof ref === 'string') {
    const parsed = parseEntityRef(ref, { defaultNamespace: 'default' });
    return { namespace: parsed.namespace, name: parsed.name };
  }
  return {
    namespace: ref.metadata.namespace ?? 'default',
    name: ref.metadata.name,
  };
}

/** `model:default/foo` → `foo` (`ns/foo` outside the default namespace). */
export function shortRef(ref: string): string {
  try {
    const { namespace, name } = parseEntityRef(ref, {
      defaultNamespace: 'default',
    });
    return namespace === 'default' ? name : `${namespace}/${name}`;
  } catch {
    return ref;
  }
}

/** A short, user-facing message of an error (the server's message for `ResponseError`s). */
export function errorMessage(error: unknown): string {
  if (!error) return 'Unknown error';
  const e = error as {
    body?: { error?: { message?: string } };
    message?: string;
    statusCode?: number;
  };
  const server = e.body?.error?.message;
  if (server) {
    return e.statusCode ? `${server} (HTTP ${e.statusCode})` : server;
  }
  return e.message ?? String(error);
}

/** True for an HTTP 404 answer of the client. */
export function isNotFound(error: unknown): boolean {
  const e = error as { statusCode?: number; name?: string } | undefined;
  return e?.statusCode === 404 || e?.name === 'NotFoundError';
}

/** Runs `fn` over `items` with at most `limit` calls in flight; keeps the order. */
export async function mapWithConcurrency<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, worker),
  );
  return results;
}
