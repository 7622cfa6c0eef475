/**
 * The impact of retiring a dataset (or one of its versions), a model or a model version: what
 * stops working, from the registry, the observed state and the catalog together.
 *
 *   dataset(Version) → runs that read it (child runs counted on their periodic task)
 *                    → model versions those runs produced → services serving those versions
 *   model(Version)   → services serving it
 *   every model reached → catalog models depending on it (`dependsOn`), transitively, bounded;
 *   a dataset        → catalog models trained on it (`trainedOn`)
 *
 * The model versions reached are a SQL predicate ({@link Scope}), not a list: a periodic task with
 * 20,000 child runs that each registered a version costs the same few queries as one run. Lists
 * are answered newest first, at most {@link IMPACT_LIST_LIMIT} items each, with their totals.
 *
 * The catalog is read through a function given by the route (as the caller sees the catalog);
 * everything else reads the registry tables.
 */
import type {
  Impact,
  ImpactModel,
  ImpactModelVersion,
  ImpactRun,
  RunKind,
} from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { kindOf, normalizeRef } from '../refs';
import { type Scope, ServiceList, servicesOf } from './impactServices';

export { describeServing, servicesServingVersion } from './impactServices';

/** Most items of each list in an answer. */
export const IMPACT_LIST_LIMIT = 200;
/** Catalog hops of `dependsOn` followed from the models reached. */
export const IMPACT_CATALOG_HOPS = 3;
/** Most models the catalog walk visits (each hop is one catalog request). */
const MAX_CATALOG_MODELS = 1000;

/** Where the impact starts. Refs are lower-cased here. */
export type ImpactStart =
  | { type: 'dataset'; ref: string; version?: string }
  | { type: 'model'; ref: string; version?: number };

/** A catalog relation as the catalog answers it. */
export interface CatalogRelation {
  type: string;
  targetRef: string;
}

/**
 * The relations of catalog entities as the caller sees them: stored ref → relations, refs the
 * caller cannot see (or the catalog does not have) absent.
 */
export type CatalogRelations = (
  refs: string[],
) => Promise<Map<string, CatalogRelation[]>>;

/** Catalog relation types the walk follows (the reverse relations, on the entity depended on). */
const DEPENDENCY_OF = 'dependencyof';
const TRAINING_DATA_OF = 'trainingdataof';
const SERVED_BY = 'servedby';

interface RunRow {
  id: string;
  name: string;
  kind: string;
  phase: string;
  cluster: string;
  namespace: string;
  model_ref: string | null;
  parent_run_id: string | null;
  child_count: number | string | null;
  schedule: string | null;
  created_at: string;
}

const RUN_COLUMNS = [
  'r.id',
  'r.name',
  'r.kind',
  'r.phase',
  'r.cluster',
  'r.namespace',
  'r.model_ref',
  'r.parent_run_id',
  'r.child_count',
  'r.schedule',
  'r.created_at',
];

function impactRun(row: RunRow, via: string): ImpactRun {
  const childRuns = Number(row.child_count ?? 0);
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as RunKind,
    phase: row.phase,
    cluster: row.cluster,
    namespace: row.namespace,
    ...(row.model_ref ? { modelRef: row.model_ref } : {}),
    periodic: row.schedule !== null || childRuns > 0,
    childRuns,
    via,
  };
}

/** Runs that are pipelines or periodic tasks (not the executions of one). */
const wherePipeline = (q: Knex.QueryBuilder) =>
  q
    .whereNull('r.parent_run_id')
    .where(w =>
      w
        .where('r.kind', 'pipeline')
        .orWhereNotNull('r.schedule')
        .orWhere('r.child_count', '>', 0),
    );

/** The count and newest {@link IMPACT_LIST_LIMIT} rows of `query` (ordered by `order`). */
async function page<T>(
  query: Knex.QueryBuilder,
  order: string,
): Promise<{ rows: T[]; total: number }> {
  const [{ count }] = await query.clone().clearSelect().count({ count: '*' });
  const rows = await query.orderBy(order, 'desc').limit(IMPACT_LIST_LIMIT);
  return { rows, total: Number(count) };
}

/**
 * The impact of `start` (see the module comment); undefined when neither the registry nor the
 * catalog knows the start, or a version start that the registry does not have.
 */
export async function computeImpact(
  db: Knex,
  start: ImpactStart,
  catalog: CatalogRelations,
): Promise<Impact | undefined> {
  const ref = normalizeRef(start.ref);
  // what items reached from the start say they came from: `dataset:…@v1`, `model:…@3`
  const startId = start.version === undefined ? ref : `${ref}@${start.version}`;
  const scope: Scope = { models: [] };
  const models = new Map<string, ImpactModel>();
  let runs: ImpactRun[] = [];
  let modelVersions: ImpactModelVersion[] = [];
  const totals = {
    services: 0,
    pipelines: 0,
    runs: 0,
    modelVersions: 0,
    models: 0,
  };
  let known: boolean;

  if (start.type === 'dataset') {
    const readers = (d: Knex) => {
      const q = d('kubeai_run_inputs')
        .where({ dataset_ref: ref })
        .select('run_id');
      return start.version === undefined
        ? q
        : q.where({ dataset_version: start.version });
    };
    scope.readers = readers;
    if (start.version !== undefined) {
      known = !!(await db('kubeai_dataset_versions')
        .where({ dataset_ref: ref, version: start.version })
        .first('id'));
      if (!known) return undefined;
    } else {
      known =
        !!(await db('kubeai_dataset_versions')
          .where({ dataset_ref: ref })
          .first('id')) || !!(await readers(db).first());
    }

    // runs that read it; executions of a periodic task count on the task
    const direct = await page<RunRow>(
      db('kubeai_runs as r')
        .whereIn('r.id', readers(db))
        .whereNull('r.parent_run_id')
        .select(RUN_COLUMNS),
      'r.created_at',
    );
    runs = direct.rows.map(r => impactRun(r, startId));
    totals.runs = direct.total;
    // the versions those runs produced, and their models
    const produced = await page<{
      model_ref: string;
      version: number;
      state: string;
      run_id: string;
    }>(
      db('kubeai_model_versions as mv')
        .whereIn('mv.run_id', readers(db))
        .select('mv.model_ref', 'mv.version', 'mv.state', 'mv.run_id'),
      'mv.created_at',
    );
    modelVersions = produced.rows.map(v => ({
      modelRef: v.model_ref,
      version: Number(v.version),
      state: v.state as ImpactModelVersion['state'],
      runId: v.run_id,
      via: `run:${v.run_id}`,
    }));
    totals.modelVersions = produced.total;
    const producedModels: { model_ref: string; run_id: string }[] = await db(
      'kubeai_model_versions',
    )
      .whereIn('run_id', readers(db))
      .groupBy('model_ref')
      .select('model_ref')
      .min({ run_id: 'run_id' });
    for (const m of producedModels) {
      models.set(m.model_ref, {
        entityRef: m.model_ref,
        relation: 'produced',
        via: `run:${m.run_id}`,
      });
    }
  } else if (start.version !== undefined) {
    known = !!(await db('kubeai_model_versions')
      .where({ model_ref: ref, version: start.version })
      .first('id'));
    if (!known) return undefined;
    scope.version = { ref, version: start.version };
  } else {
    known = !!(await db('kubeai_model_versions')
      .where({ model_ref: ref })
      .first('id'));
    scope.models.push(ref);
  }

  // the catalog: models trained on the dataset, models depending on the models reached
  const relations = await catalog([ref]);
  if (!known && !relations.has(ref)) return undefined;
  const services = new ServiceList();
  const wholeModels = new Set<string>(scope.models);
  const addServedBy = (model: string, rels: CatalogRelation[] | undefined) => {
    if (!wholeModels.has(model)) return;
    for (const r of rels ?? []) {
      if (r.type.toLowerCase() !== SERVED_BY) continue;
      services.add(
        { serviceRef: normalizeRef(r.targetRef), modelRef: model },
        'catalog',
        model,
      );
    }
  };
  let frontier: string[] = [];
  if (start.type === 'dataset') {
    for (const r of relations.get(ref) ?? []) {
      const target = normalizeRef(r.targetRef);
      if (
        r.type.toLowerCase() !== TRAINING_DATA_OF ||
        kindOf(target) !== 'model'
      )
        continue;
      if (!models.has(target)) {
        models.set(target, {
          entityRef: target,
          relation: 'trainedOn',
          via: ref,
        });
      }
      wholeModels.add(target);
    }
    frontier = [...models.keys()];
  } else {
    frontier = [ref];
  }
  const visited = new Set<string>([ref, ...frontier]);
  for (let hop = 0; hop <= IMPACT_CATALOG_HOPS && frontier.length > 0; hop++) {
    // the start's relations are read already
    const found =
      hop === 0 && start.type === 'model' ? relations : await catalog(frontier);
    const next: string[] = [];
    for (const model of frontier) {
      const rels = found.get(model);
      addServedBy(model, rels);
      // the last lookup only answers the services of the models the previous hop reached
      if (hop === IMPACT_CATALOG_HOPS) continue;
      for (const r of rels ?? []) {
        const target = normalizeRef(r.targetRef);
        if (
          r.type.toLowerCase() !== DEPENDENCY_OF ||
          kindOf(target) !== 'model'
        )
          continue;
        if (visited.has(target) || visited.size >= MAX_CATALOG_MODELS) continue;
        visited.add(target);
        models.set(target, {
          entityRef: target,
          relation: 'dependsOn',
          via: model,
        });
        wholeModels.add(target);
        next.push(target);
      }
    }
    frontier = next;
  }

  // the services and pipelines of everything reached
  scope.models = [...wholeModels];
  await servicesOf(db, scope, services);
  // pipelines and periodic tasks: reading the dataset (themselves or through their executions),
  // or training a model of the impact
  const readers = scope.readers;
  const found = await page<RunRow>(
    db('kubeai_runs as r')
      .where(w => {
        if (readers) {
          w.orWhereIn(
            'r.id',
            db('kubeai_runs')
              .whereIn('id', readers(db))
              .whereNotNull('parent_run_id')
              .distinct('parent_run_id'),
          );
          w.orWhere(p => wherePipeline(p.whereIn('r.id', readers(db))));
        }
        if (scope.models.length) {
          w.orWhere(p => wherePipeline(p.whereIn('r.model_ref', scope.models)));
        }
        if (!readers && !scope.models.length) w.whereRaw('1 = 0');
      })
      .select(RUN_COLUMNS),
    'r.created_at',
  );
  // reached through the dataset, or only as a pipeline of a model of the impact
  const ids = found.rows.map(r => r.id);
  const reading = new Set<string>();
  if (readers && ids.length) {
    const rows: { id: string }[] = await db('kubeai_runs')
      .whereIn('id', ids)
      .where(w =>
        w
          .whereIn('id', readers(db))
          .orWhereIn(
            'id',
            db('kubeai_runs')
              .whereIn('id', readers(db))
              .whereNotNull('parent_run_id')
              .distinct('parent_run_id'),
          ),
      )
      .select('id');
    for (const r of rows) reading.add(r.id);
  }
  const pipelines = found.rows.map(r =>
    impactRun(r, reading.has(r.id) || !r.model_ref ? startId : r.model_ref),
  );
  totals.pipelines = found.total;

  const serviceItems = services.items();
  const modelItems = [...models.values()];
  totals.services = serviceItems.length;
  totals.models = modelItems.length;
  return {
    entityRef: ref,
    ...(start.version !== undefined ? { version: String(start.version) } : {}),
    services: serviceItems.slice(0, IMPACT_LIST_LIMIT),
    pipelines,
    runs,
    modelVersions,
    models: modelItems.slice(0, IMPACT_LIST_LIMIT),
    totals,
  };
}
