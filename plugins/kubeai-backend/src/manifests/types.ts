/**
 * Plain object types of the manifests the builders produce. They are JSON values (no classes,
 * no dates) so they can be applied by the cluster gateway, embedded into Argo resource templates
 * or compared in tests as they are.
 */

/** Object metadata as the builders write it (server-owned fields may appear on objects read back). */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** Any Kubernetes object. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** `env` entries of a container. */
export type EnvVar =
  | { name: string; value: string }
  | {
      name: string;
      valueFrom: { secretKeyRef: { name: string; key: string } };
    };

/** `resources` of a container. */
export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** The subset of a core/v1 Container the builders write. */
export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  resources?: ResourceRequirements;
  volumeMounts?: Array<{
    name: string;
    mountPath: string;
    readOnly?: boolean;
    subPath?: string;
  }>;
  workingDir?: string;
  [key: string]: unknown;
}

/** The subset of a core/v1 Volume the builders write. */
export interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  emptyDir?: { medium?: string; sizeLimit?: string };
  [key: string]: unknown;
}

/** The subset of a core/v1 PodSpec the builders write. */
export interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  restartPolicy?: string;
  serviceAccountName?: string;
  schedulerName?: string;
  priorityClassName?: string;
  [key: string]: unknown;
}

/** A pod template (`metadata` + `spec`). */
export interface PodTemplate {
  metadata?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: PodSpec;
}

/** KServe `serving.kserve.io/v1beta1` InferenceService, the fields KubeAI writes and reads. */
export interface InferenceServiceObject extends KubeObject {
  apiVersion: 'serving.kserve.io/v1beta1';
  kind: 'InferenceService';
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: {
    predictor: {
      minReplicas?: number;
      maxReplicas?: number;
      canaryTrafficPercent?: number;
      serviceAccountName?: string;
      model: {
        modelFormat: { name: string; version?: string };
        storageUri: string;
        runtime?: string;
        protocolVersion?: string;
        resources?: ResourceRequirements;
        env?: EnvVar[];
        [key: string]: unknown;
      };
      [key: string]: unknown;
    };
    [key: string]: unknown;
  };
  status?: Record<string, unknown>;
}
