/**
 * Shared KubeAI definitions: entity kinds, schemas, relations, annotations, permissions and API types.
 *
 * @packageDocumentation
 */
export * from './constants';
export * from './entities';
export * from './api';
export * from './permissions';
