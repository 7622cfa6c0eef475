/**
 * KubeAI frontend plugin: ML pages, entity cards, lineage graph and scaffolder field pickers.
 *
 * New-system apps use the default export of `@kubeai/plugin-kubeai/alpha`; this entry point has
 * the legacy plugin, the API refs and the building blocks.
 *
 * @packageDocumentation
 */
export { KUBEAI_PLUGIN_ID } from '@kubeai/plugin-kubeai-common';
export * from './api';
export {
  kubeaiPlugin,
  kubeaiLegacyRootRouteRef,
  KubeaiPage,
  EntityModelVersionsContent,
  EntityModelDeploymentsContent,
  EntityDatasetContent,
  EntityInferenceServiceContent,
  EntityKubeaiLineageContent,
  EntityKubeaiDetailsCard,
  EntityKubeaiRelationsCard,
  EntityKubeaiActivityCard,
  ClusterPickerFieldExtension,
  NamespacePickerFieldExtension,
  ModelVersionPickerFieldExtension,
  DatasetPickerFieldExtension,
} from './plugin';
export {
  ClusterPicker,
  NamespacePicker,
  ModelVersionPicker,
  DatasetPicker,
} from './components/scaffolder/pickers';
export type {
  NamespacePickerOptions,
  ModelVersionValue,
  ModelVersionPickerOptions,
  DatasetVersionValue,
  DatasetPickerOptions,
} from './components/scaffolder/pickers';
export { LineageGraphView } from './components/lineage/LineageGraphView';
export type { LineageGraphViewProps } from './components/lineage/LineageGraphView';
export { LineageExplorer } from './components/lineage/LineageExplorer';
export type {
  LineageExplorerProps,
  LineageStart,
} from './components/lineage/LineageExplorer';
export type { LineageCanvasHandle } from './components/lineage/LineageCanvas';
export { CurveChart, areaUnderCurve } from './components/charts/CurveChart';
export type {
  CurveChartProps,
  CurveSeries,
} from './components/charts/CurveChart';
export {
  KubeaiDetailsCard,
  KubeaiRelationsCard,
  relationRowsOf,
} from './components/entityCards';
export type { RelationRow } from './components/entityCards';
export {
  ActivityCard,
  ActivityItem,
  EntityActivityCard,
} from './components/activity/ActivityCard';
export type { ActivityFilter } from './components/activity/ActivityCard';
