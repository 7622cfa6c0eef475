import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  AuthorizeResult,
  isResourcePermission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  createKubeaiNamespaceConditionalDecision,
  kubeaiNamespaceConditions,
  readTenancyConfig,
} from '@kubeai/plugin-kubeai-backend';

/** Names accepted by `permission.policy` in app-config. */
export const POLICY_NAMES = ['allow-all', 'read-only', 'ownership'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** Allows everything; the default for a local portal. */
export class AllowAllPolicy implements PermissionPolicy {
  async handle(): Promise<PolicyDecision> {
    return { result: AuthorizeResult.ALLOW };
  }
}

/** Allows reads and denies every create, update or delete, e.g. for a demo or a frozen environment. */
export class ReadOnlyPolicy implements PermissionPolicy {
  async handle(request: PolicyQuery): Promise<PolicyDecision> {
    const action = request.permission.attributes.action;
    const isMutation =
      action === 'create' || action === 'update' || action === 'delete';
    return {
      result: isMutation ? AuthorizeResult.DENY : AuthorizeResult.ALLOW,
    };
  }
}

const isMutation = (action: string | undefined) =>
  action === 'create' || action === 'update' || action === 'delete';

/**
 * Teams own their places: everybody reads; members of the owning group create, update and delete
 * in the namespaces their group owns (`kubeai.io/owner`, `kubeai.tenancy.namespaces`) and on the
 * entities it owns (models, datasets, inference services: the catalog's `isEntityOwner`); members
 * of `kubeai.tenancy.platformAdmins` may do everything. Run records (`kubeai.run.*`) are
 * cluster-namespace permissions, so they follow the namespace the run names; a delete that ends an
 * inference service or removes an entity the portal registered is also asked on that entity. A
 * namespace nobody owns, or of a cluster the portal does not know, is the platform admins' only.
 * Creations that have no place or entity yet (registering a new entity, starting a template) are
 * allowed to every user; the place they write to is decided by its own permission. Callers
 * without a user are refused writes.
 */
export class OwnershipPolicy implements PermissionPolicy {
  readonly #platformAdmins: Set<string>;

  constructor(options: { platformAdmins: string[] }) {
    this.#platformAdmins = new Set(options.platformAdmins);
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    if (!isMutation(permission.attributes.action)) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (!user) return { result: AuthorizeResult.DENY };
    const claims = user.info.ownershipEntityRefs ?? [];
    if (claims.some(ref => this.#platformAdmins.has(ref.toLowerCase()))) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (isResourcePermission(permission, 'catalog-entity')) {
      return createCatalogConditionalDecision(
        permission,
        catalogConditions.isEntityOwner({ claims }),
      );
    }
    if (isResourcePermission(permission, 'kubeai-cluster-namespace')) {
      return createKubeaiNamespaceConditionalDecision(
        permission,
        kubeaiNamespaceConditions.isNamespaceOwner({ claims }),
      );
    }
    return { result: AuthorizeResult.ALLOW };
  }
}

/** The policy `name` (`ownership` reads `kubeai.tenancy` of `config`). */
export function createPolicy(name: string, config?: Config): PermissionPolicy {
  switch (name) {
    case 'allow-all':
      return new AllowAllPolicy();
    case 'read-only':
      return new ReadOnlyPolicy();
    case 'ownership':
      return new OwnershipPolicy({
        platformAdmins: config ? readTenancyConfig(config).platformAdmins : [],
      });
    default:
      throw new Error(
        `permission.policy must be one of ${POLICY_NAMES.join(
          ', ',
        )}; got '${name}'`,
      );
  }
}

/** Installs the policy named by `permission.policy` (allow-all when unset; see POLICY_NAMES). */
export const permissionPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'kubeai-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, config: coreServices.rootConfig },
      async init({ policy, config }) {
        const name =
          config.getOptionalString('permission.policy') ?? 'allow-all';
        policy.setPolicy(createPolicy(name, config));
      },
    });
  },
});
