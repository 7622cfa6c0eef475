import { useCallback } from 'react';
import { useEntityRefLink } from '@backstage/plugin-catalog-react';
import type { LineageNode } from '@kubeai/plugin-kubeai-common';
import { useKubeaiPaths } from '../common/links';

/** Entity content paths of the KubeAI tabs (see `alpha.tsx`). */
export const ENTITY_TAB_PATHS = {
  modelVersions: 'versions',
  modelDeployments: 'deployments',
  datasetVersions: 'versions',
  serving: 'serving',
  lineage: 'lineage',
} as const;

/** Links of lineage nodes: entity pages, the version tabs, the run view, the lineage view. */
export function useLineageLinks() {
  const entityLink = useEntityRefLink();
  const paths = useKubeaiPaths();
  const nodeHref = useCallback(
    (node: LineageNode): string | undefined => {
      if (node.type === 'run') {
        // a summary of executions: the periodic task's page lists them all
        const id = node.runId ?? node.executions?.parentRunId;
        return id ? paths.run(id) : undefined;
      }
      if (!node.entityRef) return undefined;
      const base = entityLink(node.entityRef);
      if (node.type === 'modelVersion' && node.version) {
        return `${base}/${
          ENTITY_TAB_PATHS.modelVersions
        }?version=${encodeURIComponent(node.version)}`;
      }
      if (node.type === 'datasetVersion') {
        return `${base}/${ENTITY_TAB_PATHS.datasetVersions}`;
      }
      return base;
    },
    [entityLink, paths],
  );
  const lineageHref = useCallback(
    (node: LineageNode): string | undefined => {
      if (node.type === 'run') {
        return node.runId ? paths.lineage({ runId: node.runId }) : undefined;
      }
      if (!node.entityRef) return undefined;
      return paths.lineage({
        entityRef: node.entityRef,
        version: node.version,
      });
    },
    [paths],
  );
  return { nodeHref, lineageHref };
}
