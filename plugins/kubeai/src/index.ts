/**
 * KubeAI frontend plugin: ML pages, entity cards, lineage graph and scaffolder field pickers.
 *
 * @packageDocumentation
 */
export { KUBEAI_PLUGIN_ID } from '@kubeai/plugin-kubeai-common';
