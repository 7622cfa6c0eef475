/**
 * Manifest builders: pure, typed functions from validated inputs to Kubernetes objects.
 * Apply their output with the cluster gateway (`../cluster`).
 */
export * from './types';
export * from './labels';
export * from './cron';
export * from './inputs';
export * from './tableInputs';
export { GPU_RESOURCE, KUEUE_LABELS, VOLCANO } from './common';
export * from './notebook';
export * from './training';
export * from './dataset';
export * from './inferenceService';
export * from './pipeline';
export * from './runIdentity';
