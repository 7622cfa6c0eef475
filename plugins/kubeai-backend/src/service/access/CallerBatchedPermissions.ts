/**
 * One caller's concurrent permission questions in one request to the permission framework.
 *
 * A conditional decision (the `ownership` policy) costs three hops per request — this plugin →
 * permission backend → apply-conditions back to this plugin — each minting and verifying a token.
 * When a caller has many requests in flight (a forecasting team submitting thousands of tasks, a
 * pipeline's steps), the questions that arrive while one of its requests to the permission backend
 * is in flight wait and go together in the next one: every question is still asked after it
 * arrived and decided by the policy with the caller's own credentials, nothing is cached, and an
 * idle caller's question goes at once.
 *
 * Callers are told apart by their token (the same token: the same principal and claims); a
 * credentials object without one (e.g. tests' mock credentials) is asked alone.
 */
import type {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import type {
  AuthorizePermissionRequest,
  AuthorizePermissionResponse,
} from '@backstage/plugin-permission-common';
import { InFlightBatches } from '../../inFlightBatches';

/** The backend's credentials keep the caller's token as a non-enumerable `token`. */
function tokenOf(credentials: BackstageCredentials): string | undefined {
  const token = (credentials as { token?: unknown }).token;
  return typeof token === 'string' && token ? token : undefined;
}

const questionKey = (request: AuthorizePermissionRequest) =>
  `${request.permission.name}\u0000${
    'resourceRef' in request ? request.resourceRef ?? '' : ''
  }`;

export class CallerBatchedPermissions {
  readonly #permissions: Pick<PermissionsService, 'authorize'>;
  /** One lane per caller token: the same token is the same principal with the same claims. */
  readonly #batches: InFlightBatches<
    AuthorizePermissionRequest,
    AuthorizePermissionResponse,
    BackstageCredentials
  >;

  constructor(permissions: Pick<PermissionsService, 'authorize'>) {
    this.#permissions = permissions;
    this.#batches = new InFlightBatches(
      (requests, credentials) =>
        permissions.authorize(requests, { credentials }),
      { dedupe: questionKey },
    );
  }

  /** Like `PermissionsService.authorize`: one decision per request, in order. */
  authorize(
    requests: AuthorizePermissionRequest[],
    credentials: BackstageCredentials,
  ): Promise<AuthorizePermissionResponse[]> {
    const token = tokenOf(credentials);
    if (!token) return this.#permissions.authorize(requests, { credentials });
    return this.#batches.run(token, requests, credentials);
  }
}
