/**
 * Run identity of what the portal creates: the run id its objects are labelled with before they
 * are applied, the identity put into their pods (../../manifests/runIdentity.ts), and the
 * run-scoped credential issued once the run is recorded — a Secret next to the objects, owned by
 * the main ones, written with the portal's own cluster credentials (no user writes it): one per
 * run, or one per batch with a key per run, or one per group of concurrent single requests
 * (./credentialSecretGroups.ts). The credential is short-lived;
 * {@link RunIdentities.renew} (a scheduled task of the plugin) gives unfinished runs a new one
 * before the old one expires; {@link RunIdentities.revoke} ends it when the run's object is
 * deleted.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type { Run } from '@kubeai/plugin-kubeai-common';
import type { ClusterGateway } from '../../cluster';
import type {
  RunCredentialScope,
  RunCredentialSecret,
  RunCredentialStore,
} from '../../database/RunCredentialStore';
import type { RunStore } from '../../database/RunStore';
import {
  CredentialSecretGroups,
  type GroupPlacement,
} from './credentialSecretGroups';
import {
  ownerReference,
  RUN_CREDENTIAL_KEY,
  runCredentialSecret,
  runCredentialSecretName,
  sharedRunCredentialSecretName,
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

/** A recorded run whose credential to issue: its applied main object and what it may do. */
export interface RunToIssue {
  owner: KubeObject;
  run: PlannedRun;
  scope?: RunCredentialScope;
}

type SecretData = { data?: Record<string, string> };

export class RunIdentities {
  readonly #runs: RunStore;
  readonly #credentials: RunCredentialStore;
  readonly #gateway: () => ClusterGateway;
  readonly #config: RunCredentialsConfig;
  readonly #logger: LoggerService;
  readonly #groups: CredentialSecretGroups<RunToIssue>;
  /** Late keys merged into one Secret one after the other (each rewrites the whole Secret). */
  readonly #merges = new Map<string, Promise<void>>();

  constructor(options: {
    runs: RunStore;
    credentials: RunCredentialStore;
    gateway: () => ClusterGateway;
    config?: RunCredentialsConfig;
    logger: LoggerService;
    /** How long a group of concurrent single requests waits for its slowest member. */
    groupSettleMs?: number;
  }) {
    this.#runs = options.runs;
    this.#credentials = options.credentials;
    this.#gateway = options.gateway;
    this.#config = options.config ?? {
      apiUrl: DEFAULT_RUN_API_URL,
      ttlSeconds: DEFAULT_RUN_CREDENTIAL_TTL_HOURS * 3600,
    };
    this.#logger = options.logger;
    this.#groups = new CredentialSecretGroups<RunToIssue>({
      write: (cluster, runs) => this.#write(cluster, runs),
      writeLate: (cluster, run) => this.#writeLate(cluster, run),
      settleMs: options.groupSettleMs,
    });
  }

  /**
   * The runs of objects about to be applied (one lookup for all), in order. `shared`: the runs
   * share one Secret per namespace, a key each (a batch). `coalesce`: a run planned while others
   * of its namespace are in flight shares a Secret with them (concurrent single requests); such a
   * run must be {@link issue}d or {@link release}d.
   */
  async plan(
    kind: Run['kind'],
    cluster: string,
    objects: Array<{ namespace: string; name: string; modelRef?: string }>,
    options: { shared?: boolean; coalesce?: boolean } = {},
  ): Promise<PlannedRun[]> {
    const ids = await this.#runs.objectRunIds(kind, cluster, objects);
    const placed = new Map<number, GroupPlacement | undefined>();
    if (options.coalesce) {
      objects.forEach((o, i) =>
        placed.set(i, this.#groups.join(cluster, o.namespace, ids[i])),
      );
    }
    const sharedName = new Map<string, string>();
    if (options.shared) {
      const byNamespace = new Map<string, string[]>();
      objects.forEach((o, i) =>
        byNamespace.set(o.namespace, [
          ...(byNamespace.get(o.namespace) ?? []),
          ids[i],
        ]),
      );
      for (const [namespace, runIds] of byNamespace) {
        sharedName.set(namespace, sharedRunCredentialSecretName(runIds));
      }
    }
    return objects.map((o, i) => ({
      runId: ids[i],
      identity: {
        runId: ids[i],
        modelRef: o.modelRef,
        apiUrl: this.#config.apiUrl,
        cluster,
        namespace: o.namespace,
        secretName:
          placed.get(i)?.secretName ??
          sharedName.get(o.namespace) ??
          runCredentialSecretName(o.name),
        ...(placed.get(i) || sharedName.has(o.namespace)
          ? { secretKey: ids[i] }
          : {}),
      },
    }));
  }

  /** The built objects of a planned run, with its label, env and credential volume. */
  label<T extends KubeObject>(objects: T[], run: PlannedRun): T[] {
    return withRunIdentity(objects, run.identity);
  }

  /**
   * Issues the runs' credentials (one transaction) and writes their Secrets (one per Secret name,
   * owned by its runs' main objects); a run of a group of concurrent requests waits for its group.
   * Call after the runs are recorded.
   */
  async issue(cluster: string, runs: RunToIssue[]): Promise<void> {
    const grouped = runs.filter(r => this.#groups.grouped(r.run.runId));
    const alone = runs.filter(r => !this.#groups.grouped(r.run.runId));
    alone.forEach(r => this.#groups.release(r.run.runId));
    await Promise.all([
      this.#write(cluster, alone),
      ...grouped.map(r => this.#groups.ready(r.run.runId, r)),
    ]);
  }

  /** Planned runs that will not be issued (a dry run, a refusal, a failed apply). */
  release(runs: PlannedRun[]): void {
    runs.forEach(r => this.#groups.release(r.runId));
  }

  async #write(cluster: string, runs: RunToIssue[]): Promise<void> {
    if (runs.length === 0) return;
    const secretOf = (r: RunToIssue): RunCredentialSecret => ({
      cluster,
      namespace: r.owner.metadata.namespace!,
      name: r.run.identity.secretName,
      key: r.run.identity.secretKey ?? RUN_CREDENTIAL_KEY,
    });
    const { tokens, expiresAt } = await this.#credentials.issue(
      runs.map(r => ({
        runId: r.run.runId,
        modelRef: r.run.identity.modelRef,
        scope: r.scope,
        secret: secretOf(r),
      })),
      this.#config.ttlSeconds,
    );
    const groups = new Map<string, { runs: RunToIssue[]; tokens: string[] }>();
    runs.forEach((r, i) => {
      const s = secretOf(r);
      const key = `${s.namespace}/${s.name}`;
      const group = groups.get(key) ?? { runs: [], tokens: [] };
      group.runs.push(r);
      group.tokens.push(tokens[i]);
      groups.set(key, group);
    });
    const secrets = [...groups.values()].map(group =>
      runCredentialSecret({
        namespace: group.runs[0].owner.metadata.namespace!,
        name: group.runs[0].run.identity.secretName,
        tokens: Object.fromEntries(
          group.runs.map((r, i) => [secretOf(r).key, group.tokens[i]]),
        ),
        runIds: group.runs.map(r => r.run.runId),
        expiresAt,
        owners: group.runs.map(r => r.owner),
      }),
    );
    await this.#gateway().apply(cluster, secrets, { portal: true });
  }

  /** A run of a group that was written without it: its key and owner added to the Secret. */
  async #writeLate(cluster: string, run: RunToIssue): Promise<void> {
    const namespace = run.owner.metadata.namespace!;
    const secret = { cluster, namespace, name: run.run.identity.secretName };
    const id = JSON.stringify([cluster, namespace, secret.name]);
    const merge = (this.#merges.get(id) ?? Promise.resolve()).then(async () => {
      const { tokens } = await this.#credentials.issue(
        [
          {
            runId: run.run.runId,
            modelRef: run.run.identity.modelRef,
            scope: run.scope,
            secret: { ...secret, key: run.run.runId },
          },
        ],
        this.#config.ttlSeconds,
      );
      const merged = await this.#rewrite(
        secret,
        data => {
          data[run.run.runId] = Buffer.from(tokens[0]).toString('base64');
        },
        run.owner,
      );
      // the group's own write failed: the Secret is this run's alone
      if (!merged) await this.#write(cluster, [run]);
    });
    const settled = merge.catch(() => undefined);
    this.#merges.set(id, settled);
    void settled.then(() => {
      if (this.#merges.get(id) === settled) this.#merges.delete(id);
    });
    await merge;
  }

  /**
   * Ends a run's credentials (its object was deleted from the portal): refused from now on, and
   * their keys taken out of their Secrets — a Secret left without keys is deleted.
   */
  async revoke(runId: string): Promise<void> {
    for (const secret of await this.#credentials.revokeRun(runId)) {
      await this.#rewrite(secret, data => {
        delete data[secret.key];
      });
    }
  }

  /**
   * Renews the credentials of unfinished runs that expire within half their lifetime: new tokens
   * in the same Secrets (the old ones stay valid until they expire, so a pod that read one just
   * before keeps working). Returns how many were renewed.
   */
  async renew(signal?: AbortSignal): Promise<number> {
    const before = new Date(
      Date.now() + (this.#config.ttlSeconds * 1000) / 2,
    ).toISOString();
    const due = await this.#credentials.dueForRenewal(before);
    const bySecret = new Map<string, typeof due>();
    for (const d of due) {
      const key = JSON.stringify([
        d.secret.cluster,
        d.secret.namespace,
        d.secret.name,
      ]);
      bySecret.set(key, [...(bySecret.get(key) ?? []), d]);
    }
    let renewed = 0;
    for (const group of bySecret.values()) {
      if (signal?.aborted) break;
      const { secret } = group[0];
      try {
        const { tokens } = await this.#credentials.issue(
          group.map(d => ({
            runId: d.runId,
            modelRef: d.modelRef,
            scope: d.scope,
            secret: d.secret,
          })),
          this.#config.ttlSeconds,
        );
        await this.#rewrite(secret, data => {
          group.forEach((d, i) => {
            data[d.secret.key] = Buffer.from(tokens[i]).toString('base64');
          });
        });
        renewed += group.length;
      } catch (error) {
        this.#logger.warn(
          `kubeai: could not renew the run credentials in Secret ${secret.namespace}/${secret.name} of cluster ${secret.cluster}: ${error}`,
        );
      }
    }
    await this.#credentials.deleteExpired();
    return renewed;
  }

  /**
   * Changes the keys of a live Secret (`data`, base64) and writes all of it back with its owners
   * (an apply without them would drop them) and `addOwner`; deletes it when no key is left.
   * False when there is no such Secret.
   */
  async #rewrite(
    secret: { cluster: string; namespace: string; name: string },
    change: (data: Record<string, string>) => void,
    addOwner?: KubeObject,
  ): Promise<boolean> {
    const gateway = this.#gateway();
    const ref = {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: secret.namespace,
      name: secret.name,
    };
    const live = await gateway.get(secret.cluster, ref).catch(error => {
      if ((error as Error)?.name === 'NotFoundError') return undefined;
      throw error;
    });
    if (!live) return false;
    const data = { ...((live as SecretData).data ?? {}) };
    change(data);
    if (Object.keys(data).length === 0) {
      await gateway.delete(secret.cluster, ref, { portal: true });
      return true;
    }
    const metadata = live.metadata as Record<string, any>;
    const ownerReferences = [
      ...(metadata.ownerReferences ?? []),
      ...(addOwner?.metadata.uid ? [ownerReference(addOwner)] : []),
    ];
    await gateway.apply(
      secret.cluster,
      [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: secret.name,
            namespace: secret.namespace,
            labels: metadata.labels,
            annotations: {
              ...metadata.annotations,
              'kubeai.io/expires-at': new Date(
                Date.now() + this.#config.ttlSeconds * 1000,
              ).toISOString(),
            },
            ...(ownerReferences.length ? { ownerReferences } : {}),
          },
          type: 'Opaque',
          data,
        } as unknown as KubeObject,
      ],
      { portal: true },
    );
    return true;
  }
}
