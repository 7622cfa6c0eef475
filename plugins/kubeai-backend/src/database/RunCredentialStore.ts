/**
 * Run-scoped credentials (table `kubeai_run_credentials`): tokens the portal mounts into the pods
 * of a run it creates. Only their SHA-256 is stored. Not a registry write: issuing or renewing a
 * credential does not change the registry's change token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Knex } from 'knex';
import { fromJson, nowIso, toJson } from './util';

/** Every run credential starts with this, so the API tells it from a Backstage token at a glance. */
export const RUN_CREDENTIAL_PREFIX = 'kubeai-run.';

/** What a run credential may do besides the run's own version, dataset reads and phase. */
export interface RunCredentialScope {
  /** Models besides the run's own whose versions it may register (a pipeline's register steps). */
  models?: string[];
  /** InferenceServices (names, in the run's namespace) a pipeline run may roll out its versions to. */
  inferenceServices?: string[];
}

/** A verified run credential. */
export interface RunIdentity {
  runId: string;
  modelRef?: string;
  scope: RunCredentialScope;
  expiresAt: string;
}

/** Where the credential's Secret lives (to renew or revoke it). */
export interface RunCredentialSecret {
  cluster: string;
  namespace: string;
  name: string;
  /** Its key in the Secret. */
  key: string;
}

/** One credential to issue. */
export interface RunCredentialRequest {
  runId: string;
  modelRef?: string;
  scope?: RunCredentialScope;
  secret?: RunCredentialSecret;
}

const hashOf = (token: string) =>
  createHash('sha256').update(token).digest('hex');

export class RunCredentialStore {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

  /**
   * New credentials, valid for `ttlSeconds`, in one statement per 200; the tokens are returned
   * once (in order), never stored.
   */
  async issue(
    requests: RunCredentialRequest[],
    ttlSeconds: number,
  ): Promise<{ tokens: string[]; expiresAt: string }> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
    const tokens = requests.map(
      () => `${RUN_CREDENTIAL_PREFIX}${randomBytes(32).toString('base64url')}`,
    );
    const rows = requests.map((r, i) => ({
      token_hash: hashOf(tokens[i]),
      run_id: r.runId,
      model_ref: r.modelRef ?? null,
      scope: toJson(r.scope ?? {}),
      cluster: r.secret?.cluster ?? null,
      secret_namespace: r.secret?.namespace ?? null,
      secret_name: r.secret?.name ?? null,
      secret_key: r.secret?.key ?? null,
      created_at: now.toISOString(),
      expires_at: expiresAt,
    }));
    await this.#db.transaction(async tx => {
      for (let i = 0; i < rows.length; i += 200) {
        await tx('kubeai_run_credentials').insert(rows.slice(i, i + 200));
      }
    });
    return { tokens, expiresAt };
  }

  /** The identity of a token, if it is a run credential that has not expired. */
  async verify(token: string): Promise<RunIdentity | undefined> {
    if (!token.startsWith(RUN_CREDENTIAL_PREFIX)) return undefined;
    const row = await this.#db('kubeai_run_credentials')
      .where({ token_hash: hashOf(token) })
      .first();
    if (!row || row.expires_at <= nowIso()) return undefined;
    return {
      runId: row.run_id,
      modelRef: row.model_ref ?? undefined,
      scope: fromJson<RunCredentialScope>(row.scope, {}),
      expiresAt: row.expires_at,
    };
  }

  /**
   * The newest credential of each run whose Secret should be renewed: it expires before `before`,
   * and the run is not finished (Succeeded / Failed / Stopped runs keep theirs until they expire).
   */
  async dueForRenewal(before: string, limit = 500) {
    const rows: Array<{
      run_id: string;
      model_ref: string | null;
      scope: string;
      cluster: string;
      secret_namespace: string;
      secret_name: string;
      secret_key: string | null;
      expires_at: string;
    }> = await this.#db('kubeai_run_credentials as c')
      .join('kubeai_runs as r', 'r.id', 'c.run_id')
      .whereNotNull('c.secret_name')
      .whereNotIn('r.phase', ['Succeeded', 'Failed', 'Stopped'])
      .where(
        'c.expires_at',
        '=',
        this.#db('kubeai_run_credentials as n')
          .max('n.expires_at')
          .where('n.run_id', this.#db.ref('c.run_id')),
      )
      .where('c.expires_at', '<', before)
      .orderBy('c.expires_at', 'asc')
      .limit(limit)
      .select(
        'c.run_id',
        'c.model_ref',
        'c.scope',
        'c.cluster',
        'c.secret_namespace',
        'c.secret_name',
        'c.secret_key',
        'c.expires_at',
      );
    return rows.map(row => ({
      runId: row.run_id,
      modelRef: row.model_ref ?? undefined,
      scope: fromJson<RunCredentialScope>(row.scope, {}),
      secret: {
        cluster: row.cluster,
        namespace: row.secret_namespace,
        name: row.secret_name,
        key: row.secret_key ?? 'token',
      },
      expiresAt: row.expires_at,
    }));
  }

  /**
   * Revokes every credential of a run (its objects were deleted); returns where their tokens
   * are (to take them out of their Secrets).
   */
  async revokeRun(runId: string): Promise<RunCredentialSecret[]> {
    return this.#db.transaction(async tx => {
      const rows: Array<{
        cluster: string | null;
        secret_namespace: string | null;
        secret_name: string | null;
        secret_key: string | null;
      }> = await tx('kubeai_run_credentials')
        .where({ run_id: runId })
        .select('cluster', 'secret_namespace', 'secret_name', 'secret_key');
      await tx('kubeai_run_credentials').where({ run_id: runId }).delete();
      const secrets = new Map<string, RunCredentialSecret>();
      for (const row of rows) {
        if (!row.cluster || !row.secret_namespace || !row.secret_name) continue;
        const secret = {
          cluster: row.cluster,
          namespace: row.secret_namespace,
          name: row.secret_name,
          key: row.secret_key ?? 'token',
        };
        secrets.set(JSON.stringify(secret), secret);
      }
      return [...secrets.values()];
    });
  }

  /** Forgets expired credentials (they are refused anyway); returns how many went. */
  async deleteExpired(now = nowIso()): Promise<number> {
    return this.#db('kubeai_run_credentials')
      .where('expires_at', '<=', now)
      .delete();
  }
}
