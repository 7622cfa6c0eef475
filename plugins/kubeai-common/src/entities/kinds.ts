/** Kind name of a KubeAI model. */
export const KUBEAI_KIND_MODEL = 'Model';
/** Kind name of a KubeAI dataset. */
export const KUBEAI_KIND_DATASET = 'Dataset';
/** Kind name of a KubeAI inference service. */
export const KUBEAI_KIND_INFERENCE_SERVICE = 'InferenceService';

/** The three entity kinds that `apiVersion: kubeai.io/v1alpha1` defines. */
export const KUBEAI_KINDS = [
  KUBEAI_KIND_MODEL,
  KUBEAI_KIND_DATASET,
  KUBEAI_KIND_INFERENCE_SERVICE,
] as const;

/** One of {@link KUBEAI_KINDS}. */
export type KubeaiKind = (typeof KUBEAI_KINDS)[number];

/**
 * What a model does (`spec.type` of a Model). The list is closed so that the portal can
 * group and filter models; use `other` for anything that does not fit yet.
 */
export const MODEL_TYPES = [
  'classification',
  'detection',
  'segmentation',
  'ranking',
  'recommendation',
  'retrieval',
  'forecasting',
  'regression',
  'clustering',
  'anomaly-detection',
  'nlp',
  'generation',
  'embedding',
  'other',
] as const;
/** One of {@link MODEL_TYPES}. */
export type ModelType = (typeof MODEL_TYPES)[number];

/** The training framework of a model (`spec.framework` of a Model). */
export const MODEL_FRAMEWORKS = [
  'pytorch',
  'tensorflow',
  'keras',
  'jax',
  'paddlepaddle',
  'xgboost',
  'lightgbm',
  'catboost',
  'sklearn',
  'prophet',
  'statsmodels',
  'onnx',
  'huggingface',
  'other',
] as const;
/** One of {@link MODEL_FRAMEWORKS}. */
export type ModelFramework = (typeof MODEL_FRAMEWORKS)[number];

/** Where the data of a dataset lives (`spec.source.type` of a Dataset). */
export const DATASET_SOURCE_TYPES = [
  'pvc',
  'nas',
  's3',
  'oss',
  'table',
] as const;
/** One of {@link DATASET_SOURCE_TYPES}. */
export type DatasetSourceType = (typeof DATASET_SOURCE_TYPES)[number];

/** Table engines of a `table` dataset source. */
export const TABLE_ENGINES = ['odps', 'hive', 'maxcompute'] as const;
/** One of {@link TABLE_ENGINES}. */
export type TableEngine = (typeof TABLE_ENGINES)[number];

/** Distributed cache engines for a dataset (`spec.cache.engine`). */
export const CACHE_ENGINES = ['alluxio', 'juicefs'] as const;
/** One of {@link CACHE_ENGINES}. */
export type CacheEngine = (typeof CACHE_ENGINES)[number];

/** Cache media (the Fluid / Alluxio tier names). */
export const CACHE_MEDIA = ['MEM', 'SSD', 'HDD'] as const;
/** One of {@link CACHE_MEDIA}. */
export type CacheMedium = (typeof CACHE_MEDIA)[number];

/** Serving model formats (`spec.runtime.modelFormat` of an InferenceService, KServe names). */
export const MODEL_FORMATS = [
  'pytorch',
  'tensorflow',
  'onnx',
  'triton',
  'xgboost',
  'lightgbm',
  'sklearn',
  'prophet',
  'huggingface',
  'mlflow',
  'pmml',
  'paddle',
  'custom',
] as const;
/** One of {@link MODEL_FORMATS}. */
export type ModelFormat = (typeof MODEL_FORMATS)[number];

/** Inference protocols (`spec.runtime.protocol` of an InferenceService). */
export const INFERENCE_PROTOCOLS = [
  'v1',
  'v2',
  'grpc-v1',
  'grpc-v2',
  'openai',
  'http',
  'grpc',
] as const;
/** One of {@link INFERENCE_PROTOCOLS}. */
export type InferenceProtocol = (typeof INFERENCE_PROTOCOLS)[number];
