/**
 * `kubeai.tenancy` of app-config: who owns which namespace of which cluster, and who runs the
 * platform. Read by the backend (namespace owners, the namespace resource of the permission
 * framework) and by the `ownership` policy of packages/backend (platform admins), so both read it
 * the same way.
 */
import type { Config } from '@backstage/config';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';

/** The label or annotation on a namespace that names its owner, unless config says otherwise. */
export const DEFAULT_OWNER_KEY = 'kubeai.io/owner';

/** A namespace whose owner app-config declares. */
export interface ConfiguredNamespaceOwner {
  cluster: string;
  namespace: string;
  /** A group entity ref, `group:default/cv-team`. */
  owner: string;
}

export interface TenancyConfig {
  /** Label (or annotation) key naming a namespace's owner. */
  ownerKey: string;
  /** Owners declared in app-config; they win over the namespace's own label. */
  namespaces: ConfiguredNamespaceOwner[];
  /** Group refs whose members may do everything (the `ownership` policy). */
  platformAdmins: string[];
}

/** `kind:namespace/name` with the catalog's name rules (lower case). */
const ENTITY_REF = /^[a-z][-a-z0-9]*:[a-z0-9]([-_.a-z0-9]*[a-z0-9])?\/[a-z0-9]([-_.a-z0-9]*[a-z0-9])?$/;

/**
 * A group ref from what a namespace or config says: a full entity ref (`group:default/cv-team`,
 * in an annotation or config), the label form `group-<namespace>-<name>` (label values cannot hold
 * `:` or `/`; the entity namespace must then have no `-`), or a bare group name in the default
 * namespace (`cv-team`). Lower case; undefined for an empty or unusable value.
 */
export function parseOwner(value: string | undefined): string | undefined {
  const text = value?.trim().toLowerCase();
  if (!text) return undefined;
  let ref: string;
  try {
    if (text.includes(':') || text.includes('/')) {
      ref = stringifyEntityRef(
        parseEntityRef(text, { defaultKind: 'group', defaultNamespace: 'default' }),
      );
    } else {
      const labelForm = /^group-([a-z0-9]+)-(.+)$/.exec(text);
      ref = labelForm
        ? `group:${labelForm[1]}/${labelForm[2]}`
        : `group:default/${text}`;
    }
  } catch {
    return undefined;
  }
  return ENTITY_REF.test(ref) ? ref : undefined;
}

/** Reads `kubeai.tenancy`; a declared owner that is not a usable ref names its config key. */
export function readTenancyConfig(config: Config): TenancyConfig {
  const tenancy = config.getOptionalConfig('kubeai.tenancy');
  const namespaces = (tenancy?.getOptionalConfigArray('namespaces') ?? []).map(
    (entry, i) => {
      const owner = parseOwner(entry.getString('owner'));
      if (!owner) {
        throw new Error(
          `kubeai.tenancy.namespaces[${i}].owner: not a group reference: '${entry.getString('owner')}'`,
        );
      }
      return {
        cluster: entry.getString('cluster'),
        namespace: entry.getString('namespace'),
        owner,
      };
    },
  );
  const platformAdmins = (
    tenancy?.getOptionalStringArray('platformAdmins') ?? []
  ).map((ref, i) => {
    const parsed = parseOwner(ref);
    if (!parsed) {
      throw new Error(
        `kubeai.tenancy.platformAdmins[${i}]: not a group reference: '${ref}'`,
      );
    }
    return parsed;
  });
  return {
    ownerKey: tenancy?.getOptionalString('ownerKey') ?? DEFAULT_OWNER_KEY,
    namespaces,
    platformAdmins,
  };
}
