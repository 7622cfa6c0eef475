/** Model versions and their aliases (`kubeai_model_versions`, `kubeai_model_aliases`). */
import { artifactScope, touchNodes, touchScopes } from './changes';
import { versionId } from './lineageGraph';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import type {
  CreateModelVersionRequest,
  ListModelVersionsQuery,
  ModelVersion,
  ModelVersionList,
  UpdateModelVersionRequest,
} from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { UnprocessableEntityError } from '../errors';
import { normalizeRef } from '../refs';
import {
  computeImpact,
  describeServing,
  servicesServingVersion,
  type CatalogRelations,
  type ImpactStart,
} from './impact';
import {
  chunks,
  compact,
  DEFAULT_LIMIT,
  fromJson,
  KeyedMutex,
  nowIso,
  retryOnUniqueViolation,
  toJson,
  toNumber,
} from './util';

/** Alias that always means the newest live version; it cannot be assigned. */
export const LATEST_ALIAS = 'latest';

/** Row shapes of the tables (see migrations/). */
export interface ModelVersionRow {
  id: number;
  model_ref: string;
  version: number;
  artifact_uri: string;
  artifact_format: string;
  artifact_digest: string | null;
  artifact_size: string | number | null;
  framework: string | null;
  description: string | null;
  metrics: string;
  curves: string | null;
  params: string;
  tags: string;
  state: string;
  run_id: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** Model versions (+ aliases). Version numbers are `max + 1` per model, serialized per model. */
export class ModelVersionStore {
  readonly #db: Knex;
  readonly #versionLocks = new KeyedMutex();

  constructor(db: Knex) {
    this.#db = db;
  }

  /**
   * What retiring a dataset (version), model or model version would break (./impact.ts), for
   * `GET /impact`; here beside the archive, which it refuses while a service serves the version.
   */
  impact(start: ImpactStart, catalog: CatalogRelations) {
    return computeImpact(this.#db, start, catalog);
  }

  /**
   * Registers the next version of a model: `max(version) + 1` inside a transaction; the unique index
   * (model_ref, version) rejects a concurrent duplicate, and the whole transaction is retried.
   */
  async createModelVersion(
    modelRef: string,
    request: CreateModelVersionRequest,
    actor: string,
  ): Promise<ModelVersion> {
    const ref = normalizeRef(modelRef);
    const aliases = request.aliases ?? [];
    assertAssignableAliases(aliases, 'request/body/aliases');
    return this.#versionLocks.run(ref, () =>
      retryOnUniqueViolation(() =>
        this.#db.transaction(async tx => {
          if (request.runId) {
            const run = await tx('kubeai_runs')
              .where({ id: request.runId })
              .first('id');
            if (!run) {
              throw new UnprocessableEntityError(
                `request/body/runId: run ${request.runId} not found`,
              );
            }
          }
          const max = await tx('kubeai_model_versions')
            .where({ model_ref: ref })
            .max({ max: 'version' })
            .first();
          const version = (toNumber(max?.max) ?? 0) + 1;
          const now = nowIso();
          await tx('kubeai_model_versions').insert({
            model_ref: ref,
            version,
            artifact_uri: request.artifact.uri,
            artifact_format: request.artifact.format,
            artifact_digest: request.artifact.digest ?? null,
            artifact_size: request.artifact.size ?? null,
            framework: request.framework ?? null,
            description: request.description ?? null,
            metrics: toJson(request.metrics ?? {}),
            curves: request.curves ? toJson(request.curves) : null,
            params: toJson(request.params ?? {}),
            tags: toJson(request.tags ?? []),
            state: 'live',
            run_id: request.runId ?? null,
            created_by: actor,
            created_at: now,
            updated_at: now,
          });
          await moveAliases(tx, ref, version, aliases, actor, now);
          // the model's answers, its run's, and a service already serving this artifact
          // (matched when the lineage is read) change (database/changes.ts)
          touchScopes(
            ref,
            request.runId && `run:${request.runId}`,
            artifactScope(request.artifact.uri),
          );
          return (await readModelVersions(tx, ref, [version]))[0];
        }),
      ),
    );
  }

  async getModelVersion(
    modelRef: string,
    version: number,
  ): Promise<ModelVersion | undefined> {
    const [item] = await readModelVersions(this.#db, normalizeRef(modelRef), [
      version,
    ]);
    return item;
  }

  /** The version an alias points to; `latest` is the newest live version. */
  async getModelVersionByAlias(
    modelRef: string,
    alias: string,
  ): Promise<ModelVersion | undefined> {
    const ref = normalizeRef(modelRef);
    let version: number | undefined;
    if (alias === LATEST_ALIAS) {
      const row = await this.#db('kubeai_model_versions')
        .where({ model_ref: ref, state: 'live' })
        .max({ max: 'version' })
        .first();
      version = toNumber(row?.max);
    } else {
      const row = await this.#db('kubeai_model_aliases')
        .where({ model_ref: ref, alias })
        .first('version');
      version = toNumber(row?.version);
    }
    if (version === undefined) {
      return undefined;
    }
    return this.getModelVersion(ref, version);
  }

  async listModelVersions(
    modelRef: string,
    filter: ListModelVersionsQuery = {},
  ): Promise<ModelVersionList> {
    const ref = normalizeRef(modelRef);
    const base = this.#db('kubeai_model_versions').where({ model_ref: ref });
    if (filter.state) {
      base.where({ state: filter.state });
    }
    if (filter.tag) {
      base.whereRaw(`tags like ? escape '\\'`, [
        `%${likeEscape(JSON.stringify(filter.tag))}%`,
      ]);
    }
    const [{ count }] = await base.clone().count({ count: '*' });
    const rows: { version: number }[] = await base
      .clone()
      .select('version')
      .orderBy('version', 'desc')
      .limit(filter.limit ?? DEFAULT_LIMIT)
      .offset(filter.offset ?? 0);
    const items = await readModelVersions(
      this.#db,
      ref,
      rows.map(r => r.version),
    );
    return { items, totalItems: Number(count) };
  }

  /**
   * Moves aliases (the version holds exactly `aliases` afterwards), archives / restores it, replaces
   * tags or description — in one transaction.
   */
  async updateModelVersion(
    modelRef: string,
    version: number,
    patch: UpdateModelVersionRequest,
    actor: string,
  ): Promise<ModelVersion> {
    const ref = normalizeRef(modelRef);
    if (patch.aliases) {
      assertAssignableAliases(patch.aliases, 'request/body/aliases');
    }
    return retryOnUniqueViolation(() =>
      this.#db.transaction(async tx => {
        const row = await tx('kubeai_model_versions')
          .where({ model_ref: ref, version })
          .first('state');
        if (!row) {
          throw new NotFoundError(`${ref} has no version ${version}`);
        }
        const state = patch.state ?? row.state;
        // lineage shows a version's state, not its aliases, tags or description: only a change
        // of state changes an answer, and only that version's node (database/changes.ts)
        touchScopes();
        if (state !== row.state) touchNodes(ref, versionId(ref, version));
        const now = nowIso();
        if (patch.state === 'archived') {
          // a version a service serves (recorded, or observed in a cluster): move the traffic first
          const serving = await servicesServingVersion(tx, ref, version);
          if (serving.length > 0) {
            throw new ConflictError(
              `request/body/state: version ${version} of ${ref} cannot be archived while it serves traffic: ${describeServing(
                serving,
                version,
              )}; move the traffic to another version first (deploy, promote or roll back)`,
            );
          }
        }
        if (state === 'archived') {
          const held: { alias: string }[] =
            patch.aliases !== undefined
              ? patch.aliases.map(alias => ({ alias }))
              : await tx('kubeai_model_aliases')
                  .where({ model_ref: ref, version })
                  .select('alias');
          if (held.length > 0) {
            throw new ConflictError(
              `request/body/state: version ${version} of ${ref} cannot be archived while it holds the aliases ${held
                .map(h => h.alias)
                .join(', ')}; move them first or send "aliases": []`,
            );
          }
        }
        const update: Record<string, unknown> = { updated_at: now };
        if (patch.state) update.state = patch.state;
        if (patch.tags) update.tags = toJson(patch.tags);
        if (patch.description !== undefined) {
          update.description = patch.description;
        }
        await tx('kubeai_model_versions')
          .where({ model_ref: ref, version })
          .update(update);
        if (patch.aliases) {
          const dropped = tx('kubeai_model_aliases').where({
            model_ref: ref,
            version,
          });
          if (patch.aliases.length > 0) {
            dropped.whereNotIn('alias', patch.aliases);
          }
          await dropped.delete();
          await moveAliases(tx, ref, version, patch.aliases, actor, now);
        }
        return (await readModelVersions(tx, ref, [version]))[0];
      }),
    );
  }
}

function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, m => `\\${m}`);
}

function assertAssignableAliases(aliases: string[], field: string) {
  const index = aliases.indexOf(LATEST_ALIAS);
  if (index >= 0) {
    throw new InputError(
      `${field}/${index}: '${LATEST_ALIAS}' is reserved (it always means the newest live version)`,
    );
  }
}

/** Points `aliases` of the model at `version` (one upsert each: an alias is on one version). */
async function moveAliases(
  tx: Knex.Transaction,
  modelRef: string,
  version: number,
  aliases: string[],
  actor: string,
  now: string,
) {
  if (aliases.length === 0) {
    return;
  }
  const state = await tx('kubeai_model_versions')
    .where({ model_ref: modelRef, version })
    .first('state');
  if (state?.state === 'archived') {
    throw new ConflictError(
      `request/body/aliases: version ${version} of ${modelRef} is archived and cannot hold aliases`,
    );
  }
  await tx('kubeai_model_aliases')
    .insert(
      aliases.map(alias => ({
        model_ref: modelRef,
        alias,
        version,
        updated_by: actor,
        updated_at: now,
      })),
    )
    .onConflict(['model_ref', 'alias'])
    .merge(['version', 'updated_by', 'updated_at']);
}

async function readModelVersions(
  db: Knex | Knex.Transaction,
  modelRef: string,
  versions: number[],
): Promise<ModelVersion[]> {
  if (versions.length === 0) {
    return [];
  }
  const rows: ModelVersionRow[] = [];
  const aliasRows: { alias: string; version: number }[] = [];
  for (const chunk of chunks(versions)) {
    rows.push(
      ...(await db('kubeai_model_versions')
        .where({ model_ref: modelRef })
        .whereIn('version', chunk)),
    );
    aliasRows.push(
      ...(await db('kubeai_model_aliases')
        .where({ model_ref: modelRef })
        .whereIn('version', chunk)
        .select('alias', 'version')),
    );
  }
  const aliases = new Map<number, string[]>();
  for (const a of aliasRows) {
    const list = aliases.get(a.version) ?? [];
    list.push(a.alias);
    aliases.set(a.version, list);
  }
  const byVersion = new Map(rows.map(r => [r.version, r]));
  return versions
    .map(v => byVersion.get(v))
    .filter((r): r is ModelVersionRow => Boolean(r))
    .map(row =>
      modelVersionFromRow(row, (aliases.get(row.version) ?? []).sort()),
    );
}

export function modelVersionFromRow(
  row: ModelVersionRow,
  aliases: string[],
): ModelVersion {
  return compact({
    modelRef: row.model_ref,
    version: row.version,
    artifact: compact({
      uri: row.artifact_uri,
      format: row.artifact_format,
      digest: row.artifact_digest ?? undefined,
      size: toNumber(row.artifact_size),
    }),
    framework: row.framework ?? undefined,
    description: row.description ?? undefined,
    metrics: fromJson(row.metrics, {}),
    curves: fromJson(row.curves, undefined),
    params: fromJson(row.params, {}),
    tags: fromJson<string[]>(row.tags, []),
    aliases,
    state: row.state as ModelVersion['state'],
    runId: row.run_id ?? undefined,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}
