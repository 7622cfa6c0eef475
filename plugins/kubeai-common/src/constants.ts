/** The plugin id, also the backend route prefix `/api/kubeai`. */
export const KUBEAI_PLUGIN_ID = 'kubeai';

/** apiVersion of every KubeAI catalog entity. */
export const KUBEAI_API_VERSION = 'kubeai.io/v1alpha1';

/** Labels put on every Kubernetes object the portal creates. */
export const KUBEAI_LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  entity: 'kubeai.io/entity',
  model: 'kubeai.io/model',
  modelVersion: 'kubeai.io/model-version',
  run: 'kubeai.io/run',
} as const;

/** Value of `app.kubernetes.io/managed-by` on objects the portal creates. */
export const KUBEAI_MANAGER = 'kubeai';
