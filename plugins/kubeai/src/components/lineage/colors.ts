import type { LineageNodeType } from '@kubeai/plugin-kubeai-common';

/** Colour of each node type (also the legend's). */
export const NODE_COLORS: Record<LineageNodeType, string> = {
  dataset: '#2e7d32',
  datasetVersion: '#43a047',
  run: '#ef6c00',
  modelVersion: '#1e88e5',
  model: '#283593',
  inferenceService: '#8e24aa',
};

/** Colour of a status (run phase, model version state, service phase). */
export function statusColor(status?: string): string | undefined {
  switch ((status ?? '').toLowerCase()) {
    case 'succeeded':
    case 'ready':
    case 'live':
    case 'running':
      return status?.toLowerCase() === 'running' ? '#1e88e5' : '#2e7d32';
    case 'failed':
    case 'error':
      return '#c62828';
    case 'pending':
    case 'unknown':
      return '#f9a825';
    case 'stopped':
    case 'archived':
      return '#757575';
    default:
      return undefined;
  }
}
