/**
 * Kubernetes RBAC as a second wall: the cluster writes of a caller are sent with `Impersonate-User`
 * / `Impersonate-Group` headers naming the signed-in Backstage identity, so the cluster's own RBAC
 * decides them for that person (the portal's policy decided them before). Reads and the informers
 * keep the portal's own credentials.
 *
 * ```yaml
 * kubeai:
 *   tenancy:
 *     impersonation:
 *       enabled: true                # default false
 *       userPrefix: 'backstage:'     # Impersonate-User: backstage:user:default/alice
 *       groupPrefix: 'backstage:'    # Impersonate-Group: backstage:group:default/cv-team (per group owned)
 *       services: impersonate        # or `portal`: service callers write with the portal's account
 * ```
 *
 * A service caller (another backend with its own token, no user) is impersonated as
 * `<userPrefix>service:<subject>` (`backstage:service:plugin:scaffolder`) in the group
 * `<groupPrefix>services`, so the cluster's RBAC decides its writes too; `services: portal` lets
 * such callers write with the portal's own credentials instead (an explicit choice, logged once).
 */
import type {
  BackstageCredentials,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import type { Config } from '@backstage/config';

/** `kubeai.tenancy.impersonation` of app-config. */
export interface ImpersonationConfig {
  enabled: boolean;
  userPrefix: string;
  groupPrefix: string;
  /** How service callers write: impersonated (`<userPrefix>service:<subject>`) or as the portal. */
  services: 'impersonate' | 'portal';
}

/** Who the apiserver is asked to treat a request as (the Impersonate-* headers). */
export interface Impersonation {
  user: string;
  groups: string[];
  /** The Backstage identity behind it (`user:default/alice`, `plugin:scaffolder`), for messages. */
  actor: string;
}

/** The group every authenticated Kubernetes user is in; impersonated explicitly with the others. */
export const AUTHENTICATED_GROUP = 'system:authenticated';

/** Reads `kubeai.tenancy.impersonation` (disabled when absent). */
export function readImpersonationConfig(config: Config): ImpersonationConfig {
  const c = config.getOptionalConfig('kubeai.tenancy.impersonation');
  const services = c?.getOptionalString('services') ?? 'impersonate';
  if (services !== 'impersonate' && services !== 'portal') {
    throw new Error(
      `kubeai.tenancy.impersonation.services: must be 'impersonate' or 'portal', got '${services}'`,
    );
  }
  return {
    enabled: c?.getOptionalBoolean('enabled') ?? false,
    userPrefix: c?.getOptionalString('userPrefix') ?? 'backstage:',
    groupPrefix: c?.getOptionalString('groupPrefix') ?? 'backstage:',
    services,
  };
}

/** The caller's identity as impersonation needs it. */
export type CallerIdentity =
  | { type: 'user'; userEntityRef: string; ownershipEntityRefs: string[] }
  | { type: 'service'; subject: string };

/**
 * The Impersonate-* values of a caller, or undefined when it writes with the portal's credentials
 * (impersonation off; a service caller with `services: portal`). Refs are lower-cased, as the
 * catalog stores them, because RBAC subjects are case-sensitive.
 */
export function impersonationOf(
  caller: CallerIdentity,
  config: ImpersonationConfig,
): Impersonation | undefined {
  if (!config.enabled) return undefined;
  if (caller.type === 'service') {
    if (config.services === 'portal') return undefined;
    return {
      user: `${config.userPrefix}service:${caller.subject}`,
      groups: [`${config.groupPrefix}services`, AUTHENTICATED_GROUP],
      actor: caller.subject,
    };
  }
  const groups = new Set<string>();
  for (const ref of caller.ownershipEntityRefs) {
    let kind: string;
    try {
      kind = parseEntityRef(ref).kind;
    } catch {
      continue; // not a ref: nothing RBAC could bind
    }
    if (kind.toLowerCase() === 'group') {
      groups.add(`${config.groupPrefix}${ref.toLowerCase()}`);
    }
  }
  return {
    user: `${config.userPrefix}${caller.userEntityRef.toLowerCase()}`,
    groups: [...[...groups].sort(), AUTHENTICATED_GROUP],
    actor: caller.userEntityRef,
  };
}

/**
 * Turns request credentials into the {@link Impersonation} of a cluster write, with the user's
 * groups from Backstage's userInfo service (the ownership refs of the sign-in).
 */
export class CallerImpersonation {
  readonly config: ImpersonationConfig;
  readonly #userInfo?: Pick<UserInfoService, 'getUserInfo'>;

  constructor(
    config: ImpersonationConfig,
    userInfo?: Pick<UserInfoService, 'getUserInfo'>,
  ) {
    if (config.enabled && !userInfo) {
      throw new Error(
        'kubeai.tenancy.impersonation.enabled needs the userInfo service (the groups of the signed-in user)',
      );
    }
    this.config = config;
    this.#userInfo = userInfo;
  }

  /** The impersonation of a caller; undefined when the write goes with the portal's credentials. */
  async of(
    credentials: BackstageCredentials,
  ): Promise<Impersonation | undefined> {
    if (!this.config.enabled) return undefined;
    const principal = credentials.principal as {
      type?: string;
      subject?: string;
    };
    if (principal.type === 'user') {
      const info = await this.#userInfo!.getUserInfo(credentials);
      return impersonationOf(
        {
          type: 'user',
          userEntityRef: info.userEntityRef,
          ownershipEntityRefs: info.ownershipEntityRefs,
        },
        this.config,
      );
    }
    if (principal.type === 'service' && principal.subject) {
      return impersonationOf(
        { type: 'service', subject: principal.subject },
        this.config,
      );
    }
    // nobody: no write may go with the portal's credentials in its place
    throw new Error(
      `cannot impersonate a caller of type '${principal.type ?? 'unknown'}'`,
    );
  }
}
