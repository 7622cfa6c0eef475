import type {
  Deployment,
  EntityName,
  KubeaiApi,
  TrafficTarget,
} from '@kubeai/plugin-kubeai-common';

/** What an inference service action did. */
export interface InferenceServiceActionResult {
  /** The deployment after the change (a new revision). */
  deployment: Deployment;
  /** One line for the user, e.g. `Revision 4: v3 90% · v4 10%`. */
  message: string;
}

/**
 * The write actions of the InferenceService page. Every action is checked with
 * `kubeai.deployment.update` (resource: the InferenceService entity) on the backend; the page also
 * hides / disables the buttons with `usePermission`.
 */
export interface InferenceServiceActions {
  /**
   * Serve `version` with `canaryPercent` % of the traffic; the rest stays on the version that has
   * the largest share now. `canaryPercent: 100` replaces the served version.
   */
  update(
    service: EntityName,
    request: { version: number; canaryPercent: number; message?: string },
  ): Promise<InferenceServiceActionResult>;
  /** Give all the traffic to the canary (the newest version that has a share). */
  promote(
    service: EntityName,
    options?: { message?: string },
  ): Promise<InferenceServiceActionResult>;
  /** Go back to the model and traffic split of an earlier revision (default: the previous one). */
  rollback(
    service: EntityName,
    options?: { toRevision?: number; message?: string },
  ): Promise<InferenceServiceActionResult>;
}

/** `v3 90% · v4 10%` */
export function formatTraffic(traffic: TrafficTarget[]): string {
  if (!traffic.length) return 'no traffic';
  return [...traffic]
    .sort((a, b) => b.percent - a.percent || a.version - b.version)
    .map(t => `v${t.version} ${t.percent}%`)
    .join(' · ');
}

/**
 * The split after sending `percent` % to `version`: the rest goes to the version that has the
 * largest share now (other shares are dropped). Throws when a split is impossible.
 */
export function canaryTraffic(
  current: TrafficTarget[],
  version: number,
  percent: number,
): TrafficTarget[] {
  if (!Number.isInteger(version) || version < 1) {
    throw new Error(`Invalid model version ${version}`);
  }
  if (!Number.isInteger(percent) || percent < 1 || percent > 100) {
    throw new Error('The canary share must be a whole number from 1 to 100');
  }
  if (percent === 100) {
    return [{ version, percent: 100 }];
  }
  const stable = [...current]
    .filter(t => t.version !== version && t.percent > 0)
    .sort((a, b) => b.percent - a.percent || b.version - a.version)[0];
  if (!stable) {
    throw new Error(
      `No other version serves traffic to keep ${100 - percent}% on; use 100%`,
    );
  }
  return [
    { version: stable.version, percent: 100 - percent },
    { version, percent },
  ];
}

/** The canary that `promote` would give all the traffic to, or undefined when there is none. */
export function canaryOf(current: TrafficTarget[]): number | undefined {
  const serving = current.filter(t => t.percent > 0);
  if (serving.length < 2) return undefined;
  return Math.max(...serving.map(t => t.version));
}

/**
 * Records the new desired state as a deployment revision in the registry only
 * (`PATCH /deployments/{namespace}/{name}`); nothing is applied to a cluster. For setups without
 * the cluster gateway; the app uses {@link ClusterInferenceServiceActions}.
 */
export class RegistryInferenceServiceActions
  implements InferenceServiceActions
{
  constructor(private readonly api: KubeaiApi) {}

  async update(
    service: EntityName,
    request: { version: number; canaryPercent: number; message?: string },
  ): Promise<InferenceServiceActionResult> {
    const current = await this.api.getDeployment(service);
    const traffic = canaryTraffic(
      current.traffic,
      request.version,
      request.canaryPercent,
    );
    const deployment = await this.api.updateDeployment(service, {
      traffic,
      message:
        request.message ??
        (request.canaryPercent === 100
          ? `Serve v${request.version}`
          : `Canary v${request.version} at ${request.canaryPercent}%`),
    });
    return { deployment, message: resultMessage(deployment) };
  }

  async promote(
    service: EntityName,
    options?: { message?: string },
  ): Promise<InferenceServiceActionResult> {
    const current = await this.api.getDeployment(service);
    const canary = canaryOf(current.traffic);
    if (canary === undefined) {
      throw new Error('There is no canary to promote');
    }
    const deployment = await this.api.updateDeployment(service, {
      traffic: [{ version: canary, percent: 100 }],
      message: options?.message ?? `Promote v${canary}`,
    });
    return { deployment, message: resultMessage(deployment) };
  }

  async rollback(
    service: EntityName,
    options?: { toRevision?: number; message?: string },
  ): Promise<InferenceServiceActionResult> {
    const [current, revisions] = await Promise.all([
      this.api.getDeployment(service),
      this.api.listDeploymentRevisions(service, { limit: 1000 }),
    ]);
    const target =
      options?.toRevision !== undefined
        ? revisions.items.find(r => r.revision === options.toRevision)
        : revisions.items
            .filter(r => r.revision < current.revision)
            .sort((a, b) => b.revision - a.revision)[0];
    if (!target) {
      throw new Error(
        options?.toRevision !== undefined
          ? `Revision ${options.toRevision} not found`
          : 'There is no earlier revision to roll back to',
      );
    }
    const deployment = await this.api.updateDeployment(service, {
      modelRef: target.modelRef,
      traffic: target.traffic,
      desired: target.desired,
      message: options?.message ?? `Roll back to revision ${target.revision}`,
    });
    return { deployment, message: resultMessage(deployment) };
  }
}

function resultMessage(deployment: Deployment): string {
  return `Revision ${deployment.revision}: ${formatTraffic(
    deployment.traffic,
  )}`;
}

/** The version with the largest share of a split (the stable one). */
export function mainVersion(traffic: TrafficTarget[]): number | undefined {
  return [...traffic].sort(
    (a, b) => b.percent - a.percent || b.version - a.version,
  )[0]?.version;
}

/**
 * The default implementation: changes the InferenceService in its cluster through the KubeAI
 * backend's cluster gateway, which also records the deployment revision —
 * `POST /inference-services` (canary or full rollout), `…/{cluster}/{namespace}/{name}/promote`
 * and `…/rollback`. The service's cluster, namespace and object name come from its deployment
 * record (`GET /deployments/{namespace}/{name}`).
 */
export class ClusterInferenceServiceActions implements InferenceServiceActions {
  constructor(private readonly api: KubeaiApi) {}

  async update(
    service: EntityName,
    request: { version: number; canaryPercent: number; message?: string },
  ): Promise<InferenceServiceActionResult> {
    const current = await this.api.getDeployment(service);
    // Validates the split the same way the dialog previews it.
    canaryTraffic(current.traffic, request.version, request.canaryPercent);
    const result = await this.api.deployInferenceService({
      cluster: current.cluster,
      namespace: current.namespace,
      name: current.name,
      model: current.modelRef,
      modelVersion: request.version,
      canaryTrafficPercent:
        request.canaryPercent < 100 ? request.canaryPercent : undefined,
      serviceRef: current.serviceRef,
      message: request.message,
    });
    return this.#result(service, result);
  }

  async promote(
    service: EntityName,
    options?: { message?: string },
  ): Promise<InferenceServiceActionResult> {
    const current = await this.api.getDeployment(service);
    const result = await this.api.promoteInferenceService(
      {
        cluster: current.cluster,
        namespace: current.namespace,
        name: current.name,
      },
      { message: options?.message },
    );
    return this.#result(service, result);
  }

  async rollback(
    service: EntityName,
    options?: { toRevision?: number; message?: string },
  ): Promise<InferenceServiceActionResult> {
    const current = await this.api.getDeployment(service);
    let toVersion: number | undefined;
    if (options?.toRevision !== undefined) {
      const revisions = await this.api.listDeploymentRevisions(service, {
        limit: 1000,
      });
      const target = revisions.items.find(
        r => r.revision === options.toRevision,
      );
      if (!target) {
        throw new Error(`Revision ${options.toRevision} not found`);
      }
      toVersion = mainVersion(target.traffic);
    }
    const result = await this.api.rollbackInferenceService(
      {
        cluster: current.cluster,
        namespace: current.namespace,
        name: current.name,
      },
      { toVersion, message: options?.message },
    );
    return this.#result(service, result);
  }

  async #result(
    service: EntityName,
    result: { deployment?: Deployment; message: string },
  ): Promise<InferenceServiceActionResult> {
    const deployment =
      result.deployment ?? (await this.api.getDeployment(service));
    return {
      deployment,
      message: `${result.message} (${resultMessage(deployment)})`,
    };
  }
}
