/**
 * The one flow of every cluster write (see ../clusterRoutes.ts):
 *
 *   validate (400, before anything is looked up)
 *   → resolve (references, registry rules, the manifests to apply; 404 / 409 / 422)
 *   → authorize (403, nothing written)
 *   → apply (a dry run of all objects first when there are several; or only the dry run)
 *   → record (in the registry, after a real apply; a failure is a {@link PartialWriteError}).
 *
 * A route describes its write as {@link ClusterWriteSteps}: typed input in, a
 * {@link ClusterWritePlan} out; the flow runs the steps in that order. Deletes go the same way
 * ({@link ClusterWriteFlow.delete}): authorize → a dry run of every delete → the deletes → record.
 *
 * Every apply and delete (dry runs too) carries the caller's credentials to the gateway, which
 * sends them as Impersonate-User / Impersonate-Group when `kubeai.tenancy.impersonation` is on:
 * the cluster's RBAC is then a second wall after the portal's policy.
 */
import type {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { CustomErrorBase } from '@backstage/errors';
import { ClusterInputError, type ClusterGateway } from '../../cluster';
import { UnprocessableEntityError } from '../../errors';
import type { KubeObject } from '../../manifests';
import type { Access, PermissionCheck } from '../access/Access';

/**
 * The objects were applied (or deleted), but recording it in the registry failed. Answered as
 * 500; for an apply, the same request again records them (the apply is idempotent).
 */
export class PartialWriteError extends CustomErrorBase {
  name = 'PartialWriteError' as const;
  statusCode = 500 as const;
}

/** What a write resolved to: where, what to apply, who may, and what to record. */
export interface ClusterWritePlan<R = unknown> {
  cluster: string;
  /** The objects to apply (none: nothing is applied, e.g. a dataset of an existing location). */
  objects: KubeObject[];
  /** The permission checks of the write, all in one call. */
  checks: PermissionCheck[];
  /** Records the applied objects in the registry (not on a dry run). */
  record?(applied: KubeObject[], actor: string): Promise<R>;
  /** Called when the write is over, done or not (what resolve reserved, e.g. a planned run). */
  release?(): void;
}

/** How a route validates and resolves its typed input into a {@link ClusterWritePlan}. */
export interface ClusterWriteSteps<I, P extends ClusterWritePlan<any>> {
  /** Checks the input without lookups; throws InputError (400) naming the field. */
  validate?(input: I): void;
  /** Resolves references and builds the objects; throws 404 / 409 / 422 naming the field. */
  resolve(input: I, credentials: BackstageCredentials): Promise<P>;
}

/** The outcome of {@link ClusterWriteFlow.write}. */
export interface ClusterWriteOutcome<P extends ClusterWritePlan<any>> {
  plan: P;
  applied: KubeObject[];
  /** What `record` returned; undefined on a dry run. */
  recorded?: P extends ClusterWritePlan<infer R> ? R : never;
}

/** A delete of {@link ClusterWriteFlow.delete}: `objects` (the main one first) of `cluster`. */
export interface ClusterDeletePlan<R> {
  cluster: string;
  objects: KubeObject[];
  checks: PermissionCheck[];
  /** Updates the registry for what was deleted (not on a dry run). */
  record(gone: KubeObject[], actor: string): Promise<R>;
}

const describe = (objects: KubeObject[]) =>
  objects
    .map(o => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)
    .join(', ');

/** Runs cluster writes: validate → resolve → authorize → apply → record. */
export class ClusterWriteFlow {
  readonly #access: Access;
  readonly #gateway?: ClusterGateway;
  readonly #logger: LoggerService;

  constructor(options: {
    access: Access;
    gateway?: ClusterGateway;
    logger: LoggerService;
  }) {
    this.#access = options.access;
    this.#gateway = options.gateway;
    this.#logger = options.logger;
  }

  /** The gateway; without one, a 422 saying that no clusters are configured. */
  gateway(): ClusterGateway {
    if (!this.#gateway) {
      throw new UnprocessableEntityError(
        'request/body/cluster: no clusters are configured (kubernetes.clusterLocatorMethods)',
      );
    }
    return this.#gateway;
  }

  /** Runs a write of `input` with `steps`. */
  async write<I, P extends ClusterWritePlan<any>>(
    credentials: BackstageCredentials,
    input: I,
    dryRun: boolean,
    steps: ClusterWriteSteps<I, P>,
  ): Promise<ClusterWriteOutcome<P>> {
    steps.validate?.(input);
    const plan = await steps.resolve(input, credentials);
    try {
      await this.#access.authorize(credentials, plan.checks);
      const applied = plan.objects.length
        ? await this.apply(plan.cluster, plan.objects, dryRun, credentials)
        : [];
      if (dryRun || !plan.record) return { plan, applied };
      const recorded = await this.recordAfterApply(applied, plan.cluster, () =>
        plan.record!(applied, this.#access.actorOf(credentials)),
      );
      return { plan, applied, recorded };
    } finally {
      plan.release?.();
    }
  }

  /**
   * Applies (or dry-runs) objects. Several objects: a dry run of all first, so nothing is left
   * behind when a later one is invalid or forbidden. Apiserver 422s become a 422 naming the
   * fields; a missing namespace a 422 naming `namespace`. Sent as the caller (`credentials`)
   * when impersonation is on: a 403 of the cluster's RBAC names the namespace.
   */
  async apply(
    cluster: string,
    objects: KubeObject[],
    dryRun: boolean,
    credentials: BackstageCredentials,
  ): Promise<KubeObject[]> {
    const gateway = this.gateway();
    const as = credentials;
    // A run credential's rollout (a pipeline's canary / promote step) was authorized when its
    // pipeline was created — kubeai.deployment.update on each service it names — and the run
    // has no user to impersonate: it is applied with the portal's cluster identity.
    const portal = Boolean(this.#access.runCallerOf(credentials));
    try {
      if (dryRun) {
        return await gateway.apply(cluster, objects, {
          dryRun: true,
          as,
          portal,
        });
      }
      if (objects.length > 1) {
        await gateway.apply(cluster, objects, { dryRun: true, as, portal });
      }
      return await gateway.apply(cluster, objects, { as, portal });
    } catch (error) {
      throw this.clusterError(error, cluster);
    }
  }

  /** A cluster's refusal as the caller should see it (422 naming the fields or the namespace). */
  clusterError(error: unknown, cluster: string): unknown {
    if (error instanceof ClusterInputError) {
      const rejected = new UnprocessableEntityError(
        `the cluster rejected the object: ${error.message}`,
      );
      (rejected as unknown as { causes: unknown }).causes = error.causes;
      return rejected;
    }
    const message = (error as Error)?.message ?? '';
    const missing = /namespaces? "([^"]+)" not found/.exec(message);
    if ((error as Error)?.name === 'NotFoundError' && missing) {
      return new UnprocessableEntityError(
        `request/body/namespace: namespace "${missing[1]}" does not exist in cluster "${cluster}"`,
      );
    }
    return error;
  }

  /** Runs the recording after an apply; a failure says what exists and how to finish. */
  async recordAfterApply<T>(
    applied: KubeObject[],
    cluster: string,
    record: () => Promise<T>,
  ): Promise<T> {
    try {
      return await record();
    } catch (error) {
      const what = describe(applied);
      this.#logger.error(
        `kubeai applied ${what} to cluster ${cluster} but failed to record it: ${error}`,
      );
      throw new PartialWriteError(
        `applied ${what} to cluster "${cluster}", but recording it in the registry failed (${
          (error as Error)?.message ?? error
        }); the objects exist — send the same request again to record them`,
        error as Error,
      );
    }
  }

  /**
   * Deletes objects: authorize → a dry run of every delete (a forbidden or refused later delete
   * leaves everything in place) → the deletes (background propagation) → record. Returns the
   * objects that were (or would be) deleted and what `record` returned (not on a dry run).
   */
  async delete<R>(
    credentials: BackstageCredentials,
    dryRun: boolean,
    plan: ClusterDeletePlan<R>,
  ): Promise<{ gone: KubeObject[]; recorded?: R }> {
    const { cluster, objects } = plan;
    await this.#access.authorize(credentials, plan.checks);
    const gateway = this.gateway();
    const refs = objects.map(o => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      namespace: o.metadata.namespace,
      name: o.metadata.name!,
    }));
    const deleteAll = async (dry: boolean) => {
      const done: boolean[] = [];
      for (const ref of refs) {
        done.push(
          await gateway.delete(cluster, ref, {
            dryRun: dry,
            propagationPolicy: 'Background',
            as: credentials,
          }),
        );
      }
      return done;
    };
    const wouldDelete = await deleteAll(true);
    const deleted = dryRun ? wouldDelete : await deleteAll(false);
    const gone = objects.filter((_o, i) => deleted[i]);
    if (dryRun) return { gone };
    try {
      return {
        gone,
        recorded: await plan.record(gone, this.#access.actorOf(credentials)),
      };
    } catch (error) {
      const what = describe(gone);
      this.#logger.error(
        `kubeai deleted ${what} in cluster ${cluster} but failed to update the registry: ${error}`,
      );
      throw new PartialWriteError(
        `deleted ${what} in cluster "${cluster}", but updating the registry failed (${
          (error as Error)?.message ?? error
        }); the cluster informers mark the run when they see the deletion`,
        error as Error,
      );
    }
  }
}
