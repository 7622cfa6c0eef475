/**
 * Run identity of what the portal creates: the run id its objects are labelled with before they
 * are applied, the identity put into their pods (../../manifests/runIdentity.ts), and the
 * run-scoped credential issued once the run is recorded — a Secret next to the objects, owned by
 * the main one, written with the portal's own cluster credentials (no user writes it). The
 * credential is short-lived; {@link RunIdentities.renew} (a scheduled task of the plugin) gives
 * unfinished runs a new one before the old one expires.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type { Run } from '@kubeai/plugin-kubeai-common';
import type { ClusterGateway } from '../../cluster';
import type {
  RunCredentialScope,
  RunCredentialStore,
} from '../../database/RunCredentialStore';
import type { RunStore } from '../../database/RunStore';
import {
  runCredentialSecret,
  runCredentialSecretName,
  withRunIdentity,
  type KubeObject,
  type RunIdentityInput,
} from '../../manifests';

/** How run credentials are given out (`kubeai.runCredentials`). */
export interface RunCredentialsConfig {
  /** The KubeAI API as pods reach it. */
  apiUrl: string;
  /** Lifetime of one credential; renewed while the run is not finished. */
  ttlSeconds: number;
}

export const DEFAULT_RUN_CREDENTIAL_TTL_HOURS = 24;
/** Used when nothing is configured (tests, a portal on the developer's machine). */
export const DEFAULT_RUN_API_URL = 'http://localhost:7007/api/kubeai';

/** Reads `kubeai.runCredentials` (a bad value stops the backend at startup, naming the key). */
export function readRunCredentialsConfig(
  config: Config,
  fallbackApiUrl = DEFAULT_RUN_API_URL,
): RunCredentialsConfig {
  const apiUrl =
    config.getOptionalString('kubeai.runCredentials.apiUrl') ?? fallbackApiUrl;
  if (!/^https?:\/\/[^\s]+$/.test(apiUrl)) {
    throw new Error(
      `kubeai.runCredentials.apiUrl must be an http(s) URL, got "${apiUrl}"`,
    );
  }
  const hours =
    config.getOptionalNumber('kubeai.runCredentials.ttlHours') ??
    DEFAULT_RUN_CREDENTIAL_TTL_HOURS;
  if (!(hours > 0 && hours <= 24 * 30)) {
    throw new Error(
      `kubeai.runCredentials.ttlHours must be more than 0 and at most 720, got ${hours}`,
    );
  }
  return { apiUrl: apiUrl.replace(/\/+$/, ''), ttlSeconds: hours * 3600 };
}

/** A run about to be created: its id and the identity its pods get. */
export interface PlannedRun {
  runId: string;
  identity: RunIdentityInput;
}

export class RunIdentities {
  readonly #runs: RunStore;
  readonly #credentials: RunCredentialStore;
  readonly #gateway: () => ClusterGateway;
  readonly #config: RunCredentialsConfig;
  readonly #logger: LoggerService;

  constructor(options: {
    runs: RunStore;
    credentials: RunCredentialStore;
    gateway: () => ClusterGateway;
    config?: RunCredentialsConfig;
    logger: LoggerService;
  }) {
    this.#runs = options.runs;
    this.#credentials = options.credentials;
    this.#gateway = options.gateway;
    this.#config = options.config ?? {
      apiUrl: DEFAULT_RUN_API_URL,
      ttlSeconds: DEFAULT_RUN_CREDENTIAL_TTL_HOURS * 3600,
    };
    this.#logger = options.logger;
  }

  /** The runs of objects about to be applied (one lookup for all), in order. */
  async plan(
    kind: Run['kind'],
    cluster: string,
    objects: Array<{ namespace: string; name: string; modelRef?: string }>,
  ): Promise<PlannedRun[]> {
    const ids = await this.#runs.objectRunIds(kind, cluster, objects);
    return objects.map((o, i) => ({
      runId: ids[i],
      identity: {
        runId: ids[i],
        modelRef: o.modelRef,
        apiUrl: this.#config.apiUrl,
        cluster,
        namespace: o.namespace,
        secretName: runCredentialSecretName(o.name),
      },
    }));
  }

  /** The built objects of a planned run, with its label, env and credential volume. */
  label<T extends KubeObject>(objects: T[], run: PlannedRun): T[] {
    return withRunIdentity(objects, run.identity);
  }

  /**
   * Issues the run's credential and writes its Secret next to `owner` (the applied main object,
   * which owns it). Call after the run is recorded, so the credential's run exists.
   */
  async issue(
    cluster: string,
    owner: KubeObject,
    run: PlannedRun,
    scope: RunCredentialScope = {},
  ): Promise<void> {
    const namespace = owner.metadata.namespace!;
    const { token, expiresAt } = await this.#credentials.issue({
      runId: run.runId,
      modelRef: run.identity.modelRef,
      scope,
      ttlSeconds: this.#config.ttlSeconds,
      secret: { cluster, namespace, name: run.identity.secretName },
    });
    await this.#gateway().apply(
      cluster,
      [
        runCredentialSecret({
          namespace,
          identity: run.identity,
          token,
          expiresAt,
          owner,
        }),
      ],
      { portal: true },
    );
  }

  /**
   * Renews the credentials of unfinished runs that expire within half their lifetime: a new
   * token in the same Secret (the old one stays valid until it expires, so a pod that read it
   * just before keeps working). Returns how many were renewed.
   */
  async renew(signal?: AbortSignal): Promise<number> {
    const before = new Date(
      Date.now() + (this.#config.ttlSeconds * 1000) / 2,
    ).toISOString();
    let renewed = 0;
    for (const due of await this.#credentials.dueForRenewal(before)) {
      if (signal?.aborted) break;
      try {
        const { token, expiresAt } = await this.#credentials.issue({
          runId: due.runId,
          modelRef: due.modelRef,
          scope: due.scope,
          ttlSeconds: this.#config.ttlSeconds,
          secret: due.secret,
        });
        const gateway = this.#gateway();
        // the Secret's owner is kept (an apply without it would drop the ownerReference)
        const live = await gateway.get(due.secret.cluster, {
          apiVersion: 'v1',
          kind: 'Secret',
          namespace: due.secret.namespace,
          name: due.secret.name,
        });
        const owner = (
          live.metadata as { ownerReferences?: Record<string, unknown>[] }
        ).ownerReferences?.[0];
        const secret = runCredentialSecret({
          namespace: due.secret.namespace,
          identity: {
            runId: due.runId,
            modelRef: due.modelRef,
            apiUrl: this.#config.apiUrl,
            cluster: due.secret.cluster,
            namespace: due.secret.namespace,
            secretName: due.secret.name,
          },
          token,
          expiresAt,
        });
        if (owner) {
          (secret.metadata as Record<string, unknown>).ownerReferences = [
            owner,
          ];
        }
        const [current] = await gateway.apply(due.secret.cluster, [secret], {
          portal: true,
        });
        renewed += current ? 1 : 0;
      } catch (error) {
        this.#logger.warn(
          `kubeai: could not renew the credential of run ${due.runId}: ${error}`,
        );
      }
    }
    await this.#credentials.deleteExpired();
    return renewed;
  }
}
