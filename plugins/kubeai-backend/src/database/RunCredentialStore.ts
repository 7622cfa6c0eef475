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

/** Where the credential's Secret lives (to renew it). */
export interface RunCredentialSecret {
  cluster: string;
  namespace: string;
  name: string;
}

const hashOf = (token: string) =>
  createHash('sha256').update(token).digest('hex');

export class RunCredentialStore {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

  /** A new credential for `runId`, valid for `ttlSeconds`; the token is returned once, never stored. */
  async issue(options: {
    runId: string;
    modelRef?: string;
    scope?: RunCredentialScope;
    ttlSeconds: number;
    secret?: RunCredentialSecret;
  }): Promise<{ token: string; expiresAt: string }> {
    const token = `${RUN_CREDENTIAL_PREFIX}${randomBytes(32).toString(
      'base64url',
    )}`;
    const now = new Date();
    const expiresAt = new Date(
      now.getTime() + options.ttlSeconds * 1000,
    ).toISOString();
    await this.#db('kubeai_run_credentials').insert({
      token_hash: hashOf(token),
      run_id: options.runId,
      model_ref: options.modelRef ?? null,
      scope: toJson(options.scope ?? {}),
      cluster: options.secret?.cluster ?? null,
      secret_namespace: options.secret?.namespace ?? null,
      secret_name: options.secret?.name ?? null,
      created_at: now.toISOString(),
      expires_at: expiresAt,
    });
    return { token, expiresAt };
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
      },
      expiresAt: row.expires_at,
    }));
  }

  /** Revokes every credential of a run (its objects were deleted); returns how many. */
  async revokeRun(runId: string): Promise<number> {
    return this.#db('kubeai_run_credentials').where({ run_id: runId }).delete();
  }

  /** Forgets expired credentials (they are refused anyway); returns how many went. */
  async deleteExpired(now = nowIso()): Promise<number> {
    return this.#db('kubeai_run_credentials')
      .where('expires_at', '<=', now)
      .delete();
  }
}
