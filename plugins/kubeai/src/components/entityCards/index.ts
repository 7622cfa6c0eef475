export { KubeaiDetailsCard, KubeaiRelationsCard } from './cards';
export { relationRowsOf } from './relations';
export type { RelationRow } from './relations';
