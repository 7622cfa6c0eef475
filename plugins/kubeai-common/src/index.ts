/**
 * Shared KubeAI definitions: entity kinds, schemas, relations, annotations, permissions, API types
 * and the workload table (the Kubernetes kinds the portal creates).
 *
 * @packageDocumentation
 */
export * from './constants';
export * from './entities';
export * from './api';
export * from './permissions';
export * from './workloads';
export * from './pools';
