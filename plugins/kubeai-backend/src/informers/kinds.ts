/**
 * The kinds the cluster informers list and watch; the table lives with the observed store (what
 * the registry makes of each kind), see src/database/observed/kinds.ts.
 */
export {
  MANAGED_SELECTOR,
  OBSERVED_KINDS,
  kindSpec,
  type KindRole,
  type KindSpec,
  type ObservedKind,
} from '../database/observed/kinds';
