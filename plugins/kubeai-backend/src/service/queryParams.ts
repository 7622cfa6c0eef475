import { InputError } from '@backstage/errors';

/**
 * `?version=` of a model (GET /lineage, GET /impact): a number ≥ 1, or undefined when not given.
 * The spec types it as a string, since a dataset's version is any string.
 */
export function modelVersionParam(
  version: string | undefined,
): number | undefined {
  if (version === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(version)) {
    throw new InputError(
      `request/query/version: a model version is a number ≥ 1, not '${version}'`,
    );
  }
  return Number(version);
}
