import {
  coreServices,
  createBackendFeatureLoader,
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
  parseOwner,
  readTenancyConfig,
} from '@kubeai/plugin-kubeai-backend';
import {
  createServicePermissionsFactory,
  type ServicePolicy,
} from './servicePermissions';

/** Names accepted by `permission.policy` in app-config. */
export const POLICY_NAMES = ['allow-all', 'read-only', 'ownership'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

const isMutation = (action: string | undefined) =>
  action === 'create' || action === 'update' || action === 'delete';

/**
 * Allows everything; the default for a local portal. Services from outside (external access
 * tokens) too, within their `accessRestrictions`.
 */
export class AllowAllPolicy implements PermissionPolicy, ServicePolicy {
  async handle(): Promise<PolicyDecision> {
    return { result: AuthorizeResult.ALLOW };
  }

  async handleService(): Promise<PolicyDecision> {
    return { result: AuthorizeResult.ALLOW };
  }
}

/** Allows reads and denies every create, update or delete, e.g. for a demo or a frozen environment. */
export class ReadOnlyPolicy implements PermissionPolicy, ServicePolicy {
  async handle(request: PolicyQuery): Promise<PolicyDecision> {
    return {
      result: isMutation(request.permission.attributes.action)
        ? AuthorizeResult.DENY
        : AuthorizeResult.ALLOW,
    };
  }

  async handleService(request: PolicyQuery): Promise<PolicyDecision> {
    return this.handle(request);
  }
}

/**
 * `kubeai.tenancy.serviceTeams`: the team each caller from outside acts for — `subject` as
 * Backstage names the principal of an external access token (a static token's `subject`; a JWKS
 * token's `external:<sub>`, or `external:<subjectPrefix>:<sub>`) → a group ref.
 */
export function readServiceTeams(config?: Config): Map<string, string> {
  const teams = new Map<string, string>();
  const entries =
    config?.getOptionalConfigArray('kubeai.tenancy.serviceTeams') ?? [];
  entries.forEach((entry, i) => {
    const subject = entry.getString('subject');
    const team = parseOwner(entry.getString('team'));
    if (!team || !team.startsWith('group:')) {
      throw new Error(
        `kubeai.tenancy.serviceTeams[${i}].team: not a group reference: '${entry.getString(
          'team',
        )}'`,
      );
    }
    if (teams.has(subject)) {
      throw new Error(
        `kubeai.tenancy.serviceTeams[${i}].subject: '${subject}' is mapped twice`,
      );
    }
    teams.set(subject, team);
  });
  return teams;
}

/** Permissions of the platform, not of a team's place: only `kubeai.tenancy.platformAdmins` get them. */
const PLATFORM_ADMIN_PERMISSIONS = new Set(['kubeai.pool.update']);

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
 *
 * A service calling from outside (an external access token, `handleService`) is decided as a
 * member of the team `kubeai.tenancy.serviceTeams` maps its subject to — it writes KubeAI's objects
 * where that team may, never another plugin's (the catalog's locations) — and reads only when it
 * is not mapped.
 */
export class OwnershipPolicy implements PermissionPolicy, ServicePolicy {
  readonly #platformAdmins: Set<string>;
  readonly #serviceTeams: Map<string, string>;

  constructor(options: {
    platformAdmins: string[];
    serviceTeams?: Map<string, string>;
  }) {
    this.#platformAdmins = new Set(options.platformAdmins);
    this.#serviceTeams = options.serviceTeams ?? new Map();
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    if (!isMutation(request.permission.attributes.action)) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (!user) return { result: AuthorizeResult.DENY };
    return this.#decideWrite(request, user.info.ownershipEntityRefs ?? []);
  }

  async handleService(
    request: PolicyQuery,
    subject: string,
  ): Promise<PolicyDecision> {
    if (!isMutation(request.permission.attributes.action)) {
      return { result: AuthorizeResult.ALLOW };
    }
    // KubeAI's objects only: the catalog's own writes (registering and unregistering locations,
    // refreshing) are for its users — the token reaches the catalog to read entities, and
    // Backstage cannot restrict it to reads there (access restricted to named permissions or
    // actions cannot be delegated, and the KubeAI API reads the catalog on the caller's behalf)
    if (!request.permission.name.startsWith('kubeai.')) {
      return { result: AuthorizeResult.DENY };
    }
    const team = this.#serviceTeams.get(subject);
    if (!team) return { result: AuthorizeResult.DENY };
    return this.#decideWrite(request, [team]);
  }

  /** A create, update or delete by a caller with the ownership refs `claims`. */
  #decideWrite(request: PolicyQuery, claims: string[]): PolicyDecision {
    const { permission } = request;
    if (claims.some(ref => this.#platformAdmins.has(ref.toLowerCase()))) {
      return { result: AuthorizeResult.ALLOW };
    }
    // the platform's own objects (pools and quotas: kubeai.pool.update): platform admins only
    if (PLATFORM_ADMIN_PERMISSIONS.has(permission.name)) {
      return { result: AuthorizeResult.DENY };
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
export function createPolicy(
  name: string,
  config?: Config,
): PermissionPolicy & ServicePolicy {
  switch (name) {
    case 'allow-all':
      return new AllowAllPolicy();
    case 'read-only':
      return new ReadOnlyPolicy();
    case 'ownership':
      return new OwnershipPolicy({
        platformAdmins: config ? readTenancyConfig(config).platformAdmins : [],
        serviceTeams: readServiceTeams(config),
      });
    default:
      throw new Error(
        `permission.policy must be one of ${POLICY_NAMES.join(
          ', ',
        )}; got '${name}'`,
      );
  }
}

const policyOf = (config: Config) =>
  createPolicy(
    config.getOptionalString('permission.policy') ?? 'allow-all',
    config,
  );

/** Installs the policy named by `permission.policy` (allow-all when unset; see POLICY_NAMES). */
export const permissionPolicyOnlyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'kubeai-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, config: coreServices.rootConfig },
      async init({ policy, config }) {
        policy.setPolicy(policyOf(config));
      },
    });
  },
});

/**
 * The policy module, and the permissions service that has the same policy decide what callers from
 * outside may do (./servicePermissions.ts: Backstage's own service allows a service principal
 * whatever its access restrictions name, without asking the policy). A backend that adds its own
 * permissions service keeps that one (the loader's is then left out).
 */
export const permissionPolicyModule = createBackendFeatureLoader({
  loader() {
    return [
      permissionPolicyOnlyModule,
      createServicePermissionsFactory(policyOf),
    ];
  },
});
