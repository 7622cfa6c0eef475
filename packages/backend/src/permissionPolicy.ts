import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';

/** Names accepted by `permission.policy` in app-config. */
export const POLICY_NAMES = ['allow-all', 'read-only'] as const;
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

export function createPolicy(name: string): PermissionPolicy {
  switch (name) {
    case 'allow-all':
      return new AllowAllPolicy();
    case 'read-only':
      return new ReadOnlyPolicy();
    default:
      throw new Error(
        `permission.policy must be one of ${POLICY_NAMES.join(
          ', ',
        )}; got '${name}'`,
      );
  }
}

/** Installs the policy named by `permission.policy` (allow-all when unset). */
export const permissionPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'kubeai-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, config: coreServices.rootConfig },
      async init({ policy, config }) {
        const name =
          config.getOptionalString('permission.policy') ?? 'allow-all';
        policy.setPolicy(createPolicy(name));
      },
    });
  },
});
