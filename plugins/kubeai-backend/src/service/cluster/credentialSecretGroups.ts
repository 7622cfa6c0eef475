/**
 * Concurrent single requests share run-credential Secrets, as the tasks of one batch request do.
 *
 * Why: a business platform sends its daily thousands of periodic tasks one `POST /jobs` each, many
 * in flight; a Secret per task doubled the apiserver's and etcd's work per task. A task planned
 * while another task of its namespace is in flight joins an open group: one Secret, a key per run
 * (each pod mounts its own key). The group closes to newcomers when its first member is ready to
 * be issued, and is written — one credential transaction, one Secret — when every member is ready
 * or released (dry run, refusal, failed apply), or {@link CredentialSecretGroupsOptions.settleMs}
 * after it closed: a member ready after that merges its key into the written Secret. A task planned
 * with nothing else in flight keeps a Secret of its own (`<name>-kubeai-run`).
 */
import { randomBytes } from 'node:crypto';

export interface CredentialSecretGroupsOptions<T> {
  /** Writes the credentials of a group's ready members into its Secret. */
  write(cluster: string, members: T[]): Promise<void>;
  /** Adds a member that became ready after its group was written. */
  writeLate(cluster: string, member: T): Promise<void>;
  /** Members per Secret (default 64). */
  maxMembers?: number;
  /** How long a closed group waits for its slowest member (default 10 s). */
  settleMs?: number;
}

/** Where a planned run's credential goes: a group's Secret and the run's key in it. */
export interface GroupPlacement {
  secretName: string;
  secretKey: string;
}

type Member<T> =
  | { state: 'planned' }
  | { state: 'released' }
  | {
      state: 'ready';
      value: T;
      done: { resolve: () => void; reject: (error: unknown) => void };
    };

interface Group<T> {
  key: string;
  cluster: string;
  name: string;
  members: Map<string, Member<T>>;
  closed: boolean;
  written: boolean;
  timer?: NodeJS.Timeout;
}

/** Random, so a group never takes over the Secret of an earlier one (`kubeai-runs-<16 hex>`). */
const groupSecretName = () => `kubeai-runs-${randomBytes(8).toString('hex')}`;

export class CredentialSecretGroups<T> {
  readonly #options: Required<CredentialSecretGroupsOptions<T>>;
  /** Runs planned and not yet issued or released, per cluster and namespace. */
  readonly #inFlight = new Map<string, Set<string>>();
  readonly #open = new Map<string, Group<T>>();
  readonly #groupOf = new Map<string, Group<T>>();

  constructor(options: CredentialSecretGroupsOptions<T>) {
    this.#options = {
      ...options,
      maxMembers: options.maxMembers ?? 64,
      settleMs: options.settleMs ?? 10_000,
    };
  }

  /**
   * Plans a run's credential: undefined when nothing else of its namespace is in flight (a Secret
   * of its own), else its group's Secret. Every planned run must be {@link ready} or
   * {@link release}d.
   */
  join(
    cluster: string,
    namespace: string,
    runId: string,
  ): GroupPlacement | undefined {
    const key = `${cluster}\u0000${namespace}`;
    const flying = this.#inFlight.get(key) ?? new Set<string>();
    this.#inFlight.set(key, flying);
    const alone = flying.size === 0 || flying.has(runId);
    flying.add(runId);
    if (alone) return undefined;
    let group = this.#open.get(key);
    if (
      !group ||
      group.closed ||
      group.members.size >= this.#options.maxMembers
    ) {
      group = {
        key,
        cluster,
        name: groupSecretName(),
        members: new Map(),
        closed: false,
        written: false,
      };
      this.#open.set(key, group);
    }
    group.members.set(runId, { state: 'planned' });
    this.#groupOf.set(runId, group);
    return { secretName: group.name, secretKey: runId };
  }

  /** Whether a run's credential waits for its group (else the caller writes it alone). */
  grouped(runId: string): boolean {
    return this.#groupOf.has(runId);
  }

  /** The run is recorded: resolves once its credential is in its group's Secret. */
  async ready(runId: string, value: T): Promise<void> {
    const group = this.#groupOf.get(runId);
    if (!group) {
      this.#settle(runId);
      return;
    }
    if (group.written) {
      this.#forget(group, runId);
      await this.#options.writeLate(group.cluster, value);
      return;
    }
    const done = new Promise<void>((resolve, reject) =>
      group.members.set(runId, {
        state: 'ready',
        value,
        done: { resolve, reject },
      }),
    );
    if (!group.closed) {
      group.closed = true;
      group.timer = setTimeout(
        () => this.#write(group),
        this.#options.settleMs,
      );
      group.timer.unref?.();
    }
    this.#writeWhenSettled(group);
    await done;
  }

  /** The run will not be issued (a dry run, a refusal, a failed apply); no-op once ready. */
  release(runId: string): void {
    const group = this.#groupOf.get(runId);
    if (!group) {
      this.#settle(runId);
      return;
    }
    if (group.members.get(runId)?.state !== 'planned') return;
    if (group.written) {
      this.#forget(group, runId);
      return;
    }
    group.members.set(runId, { state: 'released' });
    this.#writeWhenSettled(group);
  }

  #writeWhenSettled(group: Group<T>) {
    if ([...group.members.values()].every(m => m.state !== 'planned')) {
      void this.#write(group);
    }
  }

  async #write(group: Group<T>) {
    if (group.written) return;
    group.written = true;
    clearTimeout(group.timer);
    if (this.#open.get(group.key) === group) this.#open.delete(group.key);
    const ready: Array<Extract<Member<T>, { state: 'ready' }>> = [];
    for (const [runId, member] of group.members) {
      if (member.state === 'planned') continue; // late: it writes itself when ready
      this.#forget(group, runId);
      if (member.state === 'ready') ready.push(member);
    }
    if (ready.length === 0) return;
    try {
      await this.#options.write(
        group.cluster,
        ready.map(m => m.value),
      );
      ready.forEach(m => m.done.resolve());
    } catch (error) {
      ready.forEach(m => m.done.reject(error));
    }
  }

  #forget(group: Group<T>, runId: string) {
    group.members.delete(runId);
    this.#groupOf.delete(runId);
    this.#settle(runId);
  }

  #settle(runId: string) {
    for (const [key, flying] of this.#inFlight) {
      if (flying.delete(runId) && flying.size === 0) this.#inFlight.delete(key);
    }
  }
}
