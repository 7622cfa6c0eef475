/** Dataset versions (`kubeai_dataset_versions`). */
import { touchScopes } from './changes';
import { ConflictError } from '@backstage/errors';
import type {
  CreateDatasetVersionRequest,
  DatasetVersion,
  DatasetVersionList,
} from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { normalizeRef } from '../refs';
import { compact, DEFAULT_LIMIT, nowIso, toNumber, type Page } from './util';

export interface DatasetVersionRow {
  id: number;
  dataset_ref: string;
  version: string;
  uri: string;
  digest: string | null;
  /** `digest` lower-cased, unique per dataset (migration 20270102000000_dataset_digest). */
  digest_key: string | null;
  size: string | number | null;
  description: string | null;
  created_by: string;
  created_at: string;
}

/** Dataset versions: named per dataset (`v1`, …), each of one uri. */
export class DatasetVersionStore {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

  /**
   * Registers a version. One with the `digest` another version of the dataset already has is that
   * version: it is returned and nothing is written (identical content is one version).
   */
  async createDatasetVersion(
    datasetRef: string,
    request: CreateDatasetVersionRequest,
    actor: string,
  ): Promise<DatasetVersion> {
    return (await this.#create(datasetRef, request, actor)).datasetVersion;
  }

  /**
   * {@link DatasetVersionStore.createDatasetVersion}, saying whether a version was registered
   * (`created`) or an existing one with the same digest answered.
   */
  registerDatasetVersion(
    datasetRef: string,
    request: CreateDatasetVersionRequest,
    actor: string,
  ): Promise<{ datasetVersion: DatasetVersion; created: boolean }> {
    return this.#create(datasetRef, request, actor);
  }

  async #create(
    datasetRef: string,
    request: CreateDatasetVersionRequest,
    actor: string,
  ): Promise<{ datasetVersion: DatasetVersion; created: boolean }> {
    const ref = normalizeRef(datasetRef);
    const digest = request.digest?.toLowerCase();
    const insert = async () =>
      this.#db.transaction(async tx => {
        if (digest) {
          const same = await tx('kubeai_dataset_versions')
            .where({ dataset_ref: ref, digest_key: digest })
            .first();
          if (same) {
            return {
              datasetVersion: datasetVersionFromRow(same),
              created: false,
            };
          }
        }
        const existing = await tx('kubeai_dataset_versions')
          .where({ dataset_ref: ref, version: request.version })
          .first('id');
        if (existing) {
          throw new ConflictError(
            `request/body/version: ${ref} already has a version ${request.version}`,
          );
        }
        touchScopes(ref); // a new version node of the dataset (database/changes.ts)
        await tx('kubeai_dataset_versions').insert({
          dataset_ref: ref,
          version: request.version,
          uri: request.uri,
          digest: request.digest ?? null,
          digest_key: digest ?? null,
          size: request.size ?? null,
          description: request.description ?? null,
          created_by: actor,
          created_at: nowIso(),
        });
        const row = await tx('kubeai_dataset_versions')
          .where({ dataset_ref: ref, version: request.version })
          .first();
        return { datasetVersion: datasetVersionFromRow(row), created: true };
      });
    try {
      return await insert();
    } catch (error) {
      // A concurrent insert of the same digest got there first: that is the version.
      const same = digest
        ? await this.getDatasetVersionByDigest(ref, digest)
        : undefined;
      if (same) {
        return { datasetVersion: same, created: false };
      }
      // A concurrent insert of the same version got there first.
      if ((await this.getDatasetVersion(ref, request.version)) !== undefined) {
        if (!(error instanceof ConflictError)) {
          throw new ConflictError(
            `request/body/version: ${ref} already has a version ${request.version}`,
          );
        }
      }
      throw error;
    }
  }

  /** The version of a dataset with this content digest (compared lower-case). */
  async getDatasetVersionByDigest(
    datasetRef: string,
    digest: string,
  ): Promise<DatasetVersion | undefined> {
    const row = await this.#db('kubeai_dataset_versions')
      .where({
        dataset_ref: normalizeRef(datasetRef),
        digest_key: digest.toLowerCase(),
      })
      .first();
    return row ? datasetVersionFromRow(row) : undefined;
  }

  async getDatasetVersion(
    datasetRef: string,
    version: string,
  ): Promise<DatasetVersion | undefined> {
    const row = await this.#db('kubeai_dataset_versions')
      .where({ dataset_ref: normalizeRef(datasetRef), version })
      .first();
    return row ? datasetVersionFromRow(row) : undefined;
  }

  async listDatasetVersions(
    datasetRef: string,
    page: Page = {},
  ): Promise<DatasetVersionList> {
    const base = this.#db('kubeai_dataset_versions').where({
      dataset_ref: normalizeRef(datasetRef),
    });
    const [{ count }] = await base.clone().count({ count: '*' });
    const rows: DatasetVersionRow[] = await base
      .clone()
      .select()
      .orderBy('id', 'desc')
      .limit(page.limit ?? DEFAULT_LIMIT)
      .offset(page.offset ?? 0);
    return {
      items: rows.map(datasetVersionFromRow),
      totalItems: Number(count),
    };
  }

  /**
   * Which version name a dataset version of `uri` gets, checked before anything is applied:
   * a given `version` must be free or already hold the same uri (409 otherwise); without one, the
   * version that already holds the uri, else `preferred` when free, else the next free `v<n>`.
   */
  async planDatasetVersion(
    datasetRef: string,
    request: { version?: string; uri: string; preferred?: string },
  ): Promise<{ version: string; existing?: DatasetVersion }> {
    const ref = normalizeRef(datasetRef);
    if (request.version) {
      const existing = await this.getDatasetVersion(ref, request.version);
      if (existing && existing.uri !== request.uri) {
        throw new ConflictError(
          `request/body/version: ${ref} already has a version ${request.version}, of ${existing.uri}`,
        );
      }
      return { version: request.version, existing };
    }
    const rows: { version: string; uri: string }[] = await this.#db(
      'kubeai_dataset_versions',
    )
      .where({ dataset_ref: ref })
      .orderBy('id', 'desc')
      .select('version', 'uri');
    const same = rows.find(r => r.uri === request.uri);
    if (same) {
      return {
        version: same.version,
        existing: await this.getDatasetVersion(ref, same.version),
      };
    }
    const taken = new Set(rows.map(r => r.version));
    if (request.preferred && !taken.has(request.preferred)) {
      return { version: request.preferred };
    }
    let n = rows.length + 1;
    while (taken.has(`v${n}`)) n++;
    return { version: `v${n}` };
  }

  /**
   * Creates a dataset version unless it exists with the same uri, or another holds its digest
   * (then returns that one).
   */
  async ensureDatasetVersion(
    datasetRef: string,
    request: CreateDatasetVersionRequest,
    actor: string,
  ): Promise<{ datasetVersion: DatasetVersion; created: boolean }> {
    const same = async () => {
      const existing = await this.getDatasetVersion(
        datasetRef,
        request.version,
      );
      if (existing && existing.uri !== request.uri) {
        throw new ConflictError(
          `request/body/version: ${normalizeRef(
            datasetRef,
          )} already has a version ${request.version}, of ${existing.uri}`,
        );
      }
      return existing;
    };
    const existing = await same();
    if (existing) {
      return { datasetVersion: existing, created: false };
    }
    try {
      return await this.#create(datasetRef, request, actor);
    } catch (error) {
      // a concurrent identical request created it first
      const again = error instanceof ConflictError ? await same() : undefined;
      if (again) {
        return { datasetVersion: again, created: false };
      }
      throw error;
    }
  }
}

function datasetVersionFromRow(row: DatasetVersionRow): DatasetVersion {
  return compact({
    datasetRef: row.dataset_ref,
    version: row.version,
    uri: row.uri,
    digest: row.digest ?? undefined,
    size: toNumber(row.size),
    description: row.description ?? undefined,
    createdBy: row.created_by,
    createdAt: row.created_at,
  });
}
