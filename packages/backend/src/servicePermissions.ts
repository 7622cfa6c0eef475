/**
 * The permissions service of this backend: Backstage's own (ServerPermissionClient), except that
 * callers from outside — service principals of `backend.auth.externalAccess` tokens — are decided
 * by this backend's permission policy too.
 *
 * Why: Backstage's permissions service answers every service principal itself, ALLOW for whatever
 * the token's `accessRestrictions` name, and never asks the policy (the permission backend does not
 * accept service callers). That is right for the backend's own plugins (`plugin:<id>`), but a
 * token handed to another platform could then create and delete in every team's namespace. Here
 * such a request must pass both: the token's access restrictions, and the policy's
 * `handleService` (the `ownership` policy: reads for all, writes where the team the subject is
 * mapped to may, by `kubeai.tenancy.serviceTeams`).
 *
 * A conditional decision (a team's namespace, a team's entity) is applied as the permission
 * backend applies it: the plugin that owns the resource type evaluates the conditions on the
 * resource (`/.well-known/backstage/permissions/apply-conditions`), asked with the calling
 * plugin's own service token.
 */
import {
  coreServices,
  createServiceFactory,
  type AuthService,
  type BackstageCredentials,
  type BackstageServicePrincipal,
  type DiscoveryService,
  type PermissionsService,
  type PermissionsServiceRequestOptions,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import { ResponseError } from '@backstage/errors';
import {
  AuthorizeResult,
  type AuthorizePermissionRequest,
  type AuthorizePermissionResponse,
  type PolicyDecision,
  type QueryPermissionRequest,
  type QueryPermissionResponse,
} from '@backstage/plugin-permission-common';
import { ServerPermissionClient } from '@backstage/plugin-permission-node';
import type { PolicyQuery } from '@backstage/plugin-permission-node';

/** A permission policy that also decides for callers from outside. */
export interface ServicePolicy {
  /** The decision for the service principal `subject` (an external access token's). */
  handleService(request: PolicyQuery, subject: string): Promise<PolicyDecision>;
}

type Request = AuthorizePermissionRequest | QueryPermissionRequest;

/** A service principal of an external access token (not one of this backend's plugins). */
function externalService(
  auth: AuthService,
  options?: PermissionsServiceRequestOptions,
): BackstageServicePrincipal | undefined {
  const credentials = (options as { credentials?: BackstageCredentials })
    ?.credentials;
  if (!credentials || !auth.isPrincipal(credentials, 'service')) {
    return undefined;
  }
  const principal = credentials.principal;
  return principal.subject.startsWith('plugin:') ? undefined : principal;
}

/** What the token's access restrictions allow (ServerPermissionClient's rule for services). */
function restrictionsAllow(
  principal: BackstageServicePrincipal,
  request: Request,
): boolean {
  const { permissionNames, permissionAttributes } =
    principal.accessRestrictions ?? {};
  if (permissionNames && !permissionNames.includes(request.permission.name)) {
    return false;
  }
  if (permissionAttributes?.action) {
    const action = request.permission.attributes?.action;
    if (!action || !permissionAttributes.action.includes(action)) return false;
  }
  return true;
}

/** Backstage's permissions service, with the policy deciding for callers from outside. */
export class ServicePermissions implements PermissionsService {
  readonly #inner: PermissionsService;
  readonly #policy: ServicePolicy;
  readonly #auth: AuthService;
  readonly #discovery: DiscoveryService;
  readonly #enabled: boolean;

  constructor(options: {
    inner: PermissionsService;
    policy: ServicePolicy;
    auth: AuthService;
    discovery: DiscoveryService;
    enabled: boolean;
  }) {
    this.#inner = options.inner;
    this.#policy = options.policy;
    this.#auth = options.auth;
    this.#discovery = options.discovery;
    this.#enabled = options.enabled;
  }

  async authorize(
    requests: AuthorizePermissionRequest[],
    options: PermissionsServiceRequestOptions,
  ): Promise<AuthorizePermissionResponse[]> {
    const principal = externalService(this.#auth, options);
    if (!principal || !this.#enabled) {
      return this.#inner.authorize(requests, options);
    }
    return Promise.all(
      requests.map(async request => {
        const decision = await this.#decide(principal, request);
        if (decision.result !== AuthorizeResult.CONDITIONAL) {
          return { result: decision.result };
        }
        const resourceRef = (request as { resourceRef?: string | string[] })
          .resourceRef;
        // a conditional decision needs the resource; without one nothing can be allowed
        if (!resourceRef) return { result: AuthorizeResult.DENY };
        return this.#applyConditions(decision, resourceRef);
      }),
    ) as Promise<AuthorizePermissionResponse[]>;
  }

  async authorizeConditional(
    requests: QueryPermissionRequest[],
    options: PermissionsServiceRequestOptions,
  ): Promise<QueryPermissionResponse[]> {
    const principal = externalService(this.#auth, options);
    if (!principal || !this.#enabled) {
      return this.#inner.authorizeConditional(requests, options);
    }
    return Promise.all(
      requests.map(request => this.#decide(principal, request)),
    ) as Promise<QueryPermissionResponse[]>;
  }

  async #decide(
    principal: BackstageServicePrincipal,
    request: Request,
  ): Promise<PolicyDecision> {
    if (!restrictionsAllow(principal, request)) {
      return { result: AuthorizeResult.DENY };
    }
    return this.#policy.handleService(
      { permission: request.permission } as PolicyQuery,
      principal.subject,
    );
  }

  async #applyConditions(
    decision: Extract<PolicyDecision, { result: AuthorizeResult.CONDITIONAL }>,
    resourceRef: string | string[],
  ): Promise<AuthorizePermissionResponse> {
    const baseUrl = await this.#discovery.getBaseUrl(decision.pluginId);
    const { token } = await this.#auth.getPluginRequestToken({
      onBehalfOf: await this.#auth.getOwnServiceCredentials(),
      targetPluginId: decision.pluginId,
    });
    const response = await fetch(
      `${baseUrl}/.well-known/backstage/permissions/apply-conditions`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          items: [
            {
              id: 'service',
              resourceRef,
              resourceType: decision.resourceType,
              conditions: decision.conditions,
            },
          ],
        }),
      },
    );
    if (!response.ok) throw await ResponseError.fromResponse(response);
    const { items } = (await response.json()) as {
      items: Array<{ result: AuthorizeResult | AuthorizeResult[] }>;
    };
    const result = items[0]?.result;
    // several resources: allowed only when allowed on every one
    if (Array.isArray(result)) {
      return {
        result: result.every(r => r === AuthorizeResult.ALLOW)
          ? AuthorizeResult.ALLOW
          : AuthorizeResult.DENY,
      };
    }
    return {
      result:
        result === AuthorizeResult.ALLOW
          ? AuthorizeResult.ALLOW
          : AuthorizeResult.DENY,
    };
  }
}

/**
 * The permissions service factory: Backstage's (`permissionsServiceFactory`), with the policy
 * `policyOf(config)` deciding for callers from outside.
 */
export function createServicePermissionsFactory(
  policyOf: (config: Config) => ServicePolicy,
) {
  return createServiceFactory({
    service: coreServices.permissions,
    deps: {
      auth: coreServices.auth,
      config: coreServices.rootConfig,
      discovery: coreServices.discovery,
    },
    async factory({ auth, config, discovery }) {
      return new ServicePermissions({
        inner: ServerPermissionClient.fromConfig(config, { auth, discovery }),
        policy: policyOf(config),
        auth,
        discovery,
        enabled: config.getOptionalBoolean('permission.enabled') ?? false,
      });
    },
  });
}
