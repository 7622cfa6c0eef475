import { createFormField } from '@backstage/plugin-scaffolder-react/alpha';
import {
  ClusterPicker,
  DatasetPicker,
  ModelVersionPicker,
  NamespacePicker,
} from './pickers';

/** `ui:field: ClusterPicker` */
export const clusterPickerField = createFormField({
  name: 'ClusterPicker',
  component: ClusterPicker,
});
/** `ui:field: NamespacePicker` (`ui:options.clusterField`, default `cluster`) */
export const namespacePickerField = createFormField({
  name: 'NamespacePicker',
  component: NamespacePicker,
});
/** `ui:field: ModelVersionPicker` → `{ model, modelVersion }` */
export const modelVersionPickerField = createFormField({
  name: 'ModelVersionPicker',
  component: ModelVersionPicker,
});
/** `ui:field: DatasetPicker` → entity ref (or `{ datasetRef, version }` with `withVersion`) */
export const datasetPickerField = createFormField({
  name: 'DatasetPicker',
  component: DatasetPicker,
});
