/**
 * Entity references as the registry stores them: `<kind>:<namespace>/<name>`, all lower case
 * (the catalog compares refs case-insensitively). The OpenAPI spec guarantees the shape.
 */

/** The catalog kinds the registry refers to, lower case. */
export type RegistryKind = 'model' | 'dataset' | 'inferenceservice';

/** The stored (lower-case) form of an entity ref. */
export function normalizeRef(ref: string): string {
  return ref.toLocaleLowerCase('en-US');
}

/** The stored ref of `<kind>:<namespace>/<name>`. */
export function entityRefOf(
  kind: RegistryKind,
  namespace: string,
  name: string,
): string {
  return normalizeRef(`${kind}:${namespace}/${name}`);
}

/** The kind of a (well-formed) entity ref, lower case. */
export function kindOf(ref: string): string {
  return ref.slice(0, ref.indexOf(':')).toLocaleLowerCase('en-US');
}

/** The name part of a (well-formed) entity ref. */
export function nameOf(ref: string): string {
  return ref.slice(ref.indexOf('/') + 1);
}
