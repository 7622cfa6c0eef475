/**
 * Who is calling and what they may do: the one place the KubeAI routes (../router.ts, the cluster
 * routes of ../cluster, ../observedRoutes.ts) turn credentials into a principal, ask the
 * permission framework, and check that entity refs exist in the catalog as the caller sees it.
 */
import type {
  AuthService,
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  isResourcePermission,
  type BasicPermission,
  type ResourcePermission,
} from '@backstage/plugin-permission-common';
import { clusterNamespaceRef } from '@kubeai/plugin-kubeai-common';
import { UnprocessableEntityError } from '../../errors';
import { CallerBatchedPermissions } from './CallerBatchedPermissions';
import type { RunCaller, RunCredentials } from './RunCredentials';
import { normalizeRef } from '../../refs';

/**
 * One permission check: a basic permission, or a resource permission and its resource.
 * `newEntity`: the request registers this catalog entity; while the catalog does not have it yet
 * nothing can be decided on it (a policy's `isEntityOwner` needs the entity), so the check is left
 * to the request's other checks (the namespace it is written to, `catalog.entity.create`).
 */
export type PermissionCheck = (
  | { permission: BasicPermission; resourceRef?: undefined }
  | { permission: ResourcePermission; resourceRef: string }
  | { permission: BasicPermission | ResourcePermission; resourceRef?: string }
) & { newEntity?: boolean };

/**
 * An entity ref that must be in the catalog: from the path (no `field`: a missing one is a 404) or
 * from the body (`field`, e.g. `request/body/modelRef`: a 422 naming it).
 */
export interface CatalogRef {
  ref: string;
  field?: string;
  /** Appended to the 422 message, e.g. `; give catalogEntity to register it`. */
  hint?: string;
}

/** What {@link Access} needs from the backend (core services and the catalog). */
export interface AccessOptions {
  httpAuth: HttpAuthService;
  auth: AuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  /** Run-scoped credentials (./RunCredentials.ts): requests acting for a run. */
  runCredentials?: RunCredentials;
}

/**
 * The checks of a write of `objects` to `cluster` with a cluster-namespace permission: one per
 * namespace the objects go to (so a write is decided for each place it touches).
 */
export function namespaceChecks(
  permission: ResourcePermission,
  cluster: string,
  objects: Array<{ metadata: { namespace?: string } }>,
): PermissionCheck[] {
  const namespaces = new Set(
    objects.map(o => o.metadata.namespace).filter((n): n is string => !!n),
  );
  return [...namespaces].map(namespace => ({
    permission,
    resourceRef: clusterNamespaceRef(cluster, namespace),
  }));
}

const toRequest = (check: PermissionCheck) =>
  isResourcePermission(check.permission)
    ? { permission: check.permission, resourceRef: check.resourceRef! }
    : { permission: check.permission as BasicPermission };

/** Credentials, principals, permissions and catalog existence for the KubeAI routes. */
export class Access {
  readonly #httpAuth: HttpAuthService;
  readonly #auth: AuthService;
  readonly #permissions: CallerBatchedPermissions;
  readonly #catalog: CatalogService;
  readonly #runCredentials?: RunCredentials;

  constructor(options: AccessOptions) {
    this.#runCredentials = options.runCredentials;
    this.#httpAuth = options.httpAuth;
    this.#auth = options.auth;
    this.#permissions = new CallerBatchedPermissions(options.permissions);
    this.#catalog = options.catalog;
  }

  /**
   * The caller (a user or a service); the httpRouter already refused requests without any. A
   * request with a run credential gets the portal's own service credentials, which this class
   * knows as that run's ({@link Access.runCallerOf}).
   */
  credentials(req: unknown): Promise<BackstageCredentials> {
    const run = this.#runCredentials?.callerOf(req as object);
    if (run) return Promise.resolve(run.credentials);
    return this.#httpAuth.credentials(req as never, {
      allow: ['user', 'service'],
    });
  }

  /** The run these credentials act for (a request with a run credential), if any. */
  runCallerOf(credentials: BackstageCredentials): RunCaller | undefined {
    return this.#runCredentials?.callerByCredentials(credentials);
  }

  /**
   * What `createdBy` / `updatedBy` record: the user entity ref or the service subject; a run
   * credential's requests record `run:<id>`.
   */
  actorOf(credentials: BackstageCredentials): string {
    const run = this.runCallerOf(credentials);
    if (run) return `run:${run.identity.runId}`;
    return this.#auth.isPrincipal(credentials, 'user')
      ? credentials.principal.userEntityRef
      : (credentials.principal as { subject?: string }).subject ?? 'unknown';
  }

  /**
   * All checks in one call to the permission framework (with the same caller's questions that
   * arrive meanwhile: {@link CallerBatchedPermissions}); the first denial (in the order given) is
   * a `NotAllowedError` (403) naming the permission and the resource.
   */
  async authorize(
    credentials: BackstageCredentials,
    requested: PermissionCheck[],
  ): Promise<void> {
    // a run credential's request was decided at the door (RunCredentials: its run, its model,
    // its rollouts); the permission framework would allow the portal's own credentials anything
    if (this.runCallerOf(credentials)) return;
    let checks = requested;
    const newEntities = checks.filter(c => c.newEntity && c.resourceRef);
    if (newEntities.length) {
      const known = await this.catalogEntities(
        credentials,
        newEntities.map(c => c.resourceRef!),
        ['kind'],
      );
      checks = checks.filter(
        c =>
          !c.newEntity ||
          !c.resourceRef ||
          known.has(normalizeRef(c.resourceRef)),
      );
    }
    if (checks.length === 0) return;
    // each (permission, resource) once: a batch of 20,000 tasks in one namespace is one decision
    const unique = new Map<string, PermissionCheck>();
    for (const check of checks) {
      const key = `${check.permission.name}\u0000${check.resourceRef ?? ''}`;
      if (!unique.has(key)) unique.set(key, check);
    }
    const asked = [...unique.values()];
    const decisions = await this.#permissions.authorize(
      asked.map(toRequest),
      credentials,
    );
    decisions.forEach((decision, i) => {
      if (decision.result !== AuthorizeResult.ALLOW) {
        const { permission, resourceRef } = asked[i];
        throw new NotAllowedError(
          `${permission.name} denied${resourceRef ? ` on ${resourceRef}` : ''}`,
        );
      }
    });
  }

  /** Whether each check is allowed (no error), e.g. to show where the caller may write. */
  async allowed(
    credentials: BackstageCredentials,
    checks: PermissionCheck[],
  ): Promise<boolean[]> {
    if (checks.length === 0) return [];
    if (this.runCallerOf(credentials)) return checks.map(() => false);
    const decisions = await this.#permissions.authorize(
      checks.map(toRequest),
      credentials,
    );
    return decisions.map(d => d.result === AuthorizeResult.ALLOW);
  }

  /** Which of `refs` the catalog has, as the caller sees it (stored, lower-case ref → entity). */
  async catalogEntities(
    credentials: BackstageCredentials,
    refs: string[],
    fields?: string[],
  ): Promise<Map<string, Record<string, any>>> {
    const unique = [...new Set(refs.map(normalizeRef))];
    const found = new Map<string, Record<string, any>>();
    if (unique.length === 0) return found;
    const { items } = await this.#catalog.getEntitiesByRefs(
      { entityRefs: unique, ...(fields ? { fields } : {}) },
      { credentials },
    );
    items.forEach((item, i) => {
      if (item) found.set(unique[i], item as Record<string, any>);
    });
    return found;
  }

  /**
   * Checks that entities exist in the catalog (one request), as the caller sees it: the first
   * missing one is a 404 when it comes from the path, a 422 naming the field when from the body.
   * `alsoKnown` may accept a ref the catalog does not have (e.g. one the portal registered).
   */
  async assertInCatalog(
    credentials: BackstageCredentials,
    refs: CatalogRef[],
    alsoKnown?: (ref: string) => Promise<boolean>,
  ): Promise<void> {
    if (refs.length === 0) return;
    const found = await this.catalogEntities(
      credentials,
      refs.map(r => r.ref),
      ['kind', 'metadata.namespace', 'metadata.name'],
    );
    for (const r of refs) {
      const ref = normalizeRef(r.ref);
      if (found.has(ref) || (alsoKnown && (await alsoKnown(ref)))) continue;
      const message = `${ref} not found in the catalog`;
      throw r.field
        ? new UnprocessableEntityError(`${r.field}: ${message}${r.hint ?? ''}`)
        : new NotFoundError(message);
    }
  }
}
