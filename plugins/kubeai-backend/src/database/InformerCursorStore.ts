import { Knex } from 'knex';
import { randomBytes } from 'node:crypto';

/**
 * Where the informers of a cluster stopped: per kind, the resourceVersion up to which everything
 * observed is written to the registry. The informer leader of a cluster saves it as it goes; a new
 * leader (another replica, or the same after a restart) resumes every watch there — the events
 * since are replayed, and the registry's writes are idempotent — and relists only when the
 * apiserver answers 410 Gone. Not a registry write: it does not change lineage answers.
 */
export class InformerCursorStore {
  constructor(private readonly db: Knex) {}

  /** The kinds' stored resourceVersions of `cluster`. */
  async read(cluster: string): Promise<Map<string, string>> {
    const rows: { kind: string; resource_version: string }[] = await this.db(
      'kubeai_informer_cursors',
    )
      .where({ cluster })
      .select('kind', 'resource_version');
    return new Map(rows.map(r => [r.kind, r.resource_version]));
  }

  /** Stores the kinds' resourceVersions of `cluster` (one statement). */
  async save(
    cluster: string,
    cursors: Map<string, string>,
    writtenBy: string,
  ): Promise<void> {
    if (cursors.size === 0) return;
    const updatedAt = new Date().toISOString();
    // in a transaction of the plain knex: not counted as a registry change (database/changes.ts)
    await this.db.transaction(tx =>
      tx('kubeai_informer_cursors')
        .insert(
          [...cursors].map(([kind, resourceVersion]) => ({
            cluster,
            kind,
            resource_version: resourceVersion,
            written_by: writtenBy,
            updated_at: updatedAt,
          })),
        )
        .onConflict(['cluster', 'kind'])
        .merge(['resource_version', 'written_by', 'updated_at']),
    );
  }

  /** Forgets `cluster`'s cursors (its next leader lists everything again). */
  async clear(cluster: string): Promise<void> {
    await this.db.transaction(tx =>
      tx('kubeai_informer_cursors').where({ cluster }).delete(),
    );
  }

  /**
   * This portal's installation id (created once, shared by its replicas through the database):
   * 10 lower-case hex characters, usable in Kubernetes names.
   */
  async installationId(): Promise<string> {
    const read = async () =>
      (await this.db('kubeai_settings')
        .where({ key: 'installation-id' })
        .first('value')) as { value: string } | undefined;
    const found = await read();
    if (found) return found.value;
    await this.db.transaction(tx =>
      tx('kubeai_settings')
        .insert({
          key: 'installation-id',
          value: randomBytes(5).toString('hex'),
        })
        .onConflict('key')
        .ignore(),
    );
    return (await read())!.value;
  }
}
