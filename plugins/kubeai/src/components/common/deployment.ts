import type { Deployment } from '@kubeai/plugin-kubeai-common';

/**
 * What the cluster reports about a deployment (`observed`, written by the cluster informers):
 * the conventional keys `phase`, `ready`, `url` (KServe `status.url`) and `message`.
 */
export interface ObservedStatus {
  phase?: string;
  ready?: boolean;
  url?: string;
  message?: string;
}

/** Reads the conventional keys of `observed`, ignoring anything else. */
export function observedStatus(deployment: Deployment): ObservedStatus {
  const o = deployment.observed ?? {};
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const url =
    str(o.url) ??
    str(o.address) ??
    str((o.status as { url?: unknown } | undefined)?.url);
  return {
    phase: str(o.phase),
    ready: typeof o.ready === 'boolean' ? o.ready : undefined,
    url: url && /^https?:\/\//.test(url) ? url : undefined,
    message: str(o.message),
  };
}

/** `Ready`, `Not ready`, the phase, or `Not reported`. */
export function statusLabel(deployment: Deployment): string {
  const s = observedStatus(deployment);
  if (s.phase) return s.phase;
  if (s.ready !== undefined) return s.ready ? 'Ready' : 'Not ready';
  return deployment.observed ? 'Unknown' : 'Not reported';
}
