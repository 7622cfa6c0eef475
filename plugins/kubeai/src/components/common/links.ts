import {
  routeResolutionApiRef,
  useApiHolder,
} from '@backstage/frontend-plugin-api';
import { useLocation } from 'react-router-dom';
import { rootRouteRef } from '../../routes';

/** Query of the lineage view. */
export interface LineageLinkQuery {
  entityRef?: string;
  version?: string;
  runId?: string;
}

/**
 * Paths inside the KubeAI page (`/kubeai` unless the app mounts it elsewhere). Works in the new
 * frontend system (route resolution) and falls back to `/kubeai` elsewhere (legacy apps, tests).
 */
export function useKubeaiPaths() {
  const holder = useApiHolder();
  const { pathname } = useLocation();
  let base = '/kubeai';
  try {
    const resolved = holder
      .get(routeResolutionApiRef)
      ?.resolve(rootRouteRef, { sourcePath: pathname })?.();
    if (resolved) base = resolved;
  } catch {
    // not mounted in this app: keep the default
  }
  base = base.replace(/\/$/, '');
  return {
    base,
    run: (id: string) => `${base}/runs/${encodeURIComponent(id)}`,
    lineage: (query: LineageLinkQuery) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== '') params.set(k, String(v));
      }
      return `${base}/lineage?${params.toString()}`;
    },
  };
}
