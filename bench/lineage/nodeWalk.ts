/*
 * The baseline: the same lineage graph, walked one node per query — the way the catalog graph
 * fetches one entity (with its relations) per node it shows. Every node of the answer costs one
 * query that returns its details and its neighbours (left joins); a model's or dataset's node
 * (attached to its versions) costs nothing. In-process, no HTTP: the cheapest form of the baseline.
 *
 * A service's observed state (and drift) comes with its deployment row, as in GET /lineage. The
 * synthetic registry has no cluster objects (Fluid datasets, discovered services), so the walk does
 * not look for them; the answer is ordered as GET /lineage orders it, and run.ts checks that both
 * are identical.
 */
import type {
  LineageEdge,
  LineageEdgeType,
  LineageGraph,
  LineageNode,
} from '@kubeai/plugin-kubeai-common';
import { Knex } from 'knex';
import { GraphBuilder } from '../../plugins/kubeai-backend/src/database/lineage';
import { computeDrift } from '../../plugins/kubeai-backend/src/database/drift';
import { serviceSummary } from '../../plugins/kubeai-backend/src/database/observed/lineage';

type Direction = 'upstream' | 'downstream' | 'both';

interface Fetched {
  node?: LineageNode;
  up: { id: string; edge: LineageEdge }[];
  down: { id: string; edge: LineageEdge }[];
}

const nameOf = (ref: string) => ref.slice(ref.indexOf('/') + 1);

export class NodeWalk {
  queries = 0;

  constructor(private readonly db: Knex) {}

  async #q<T>(query: Knex.QueryBuilder | Knex.Raw): Promise<T[]> {
    this.queries++;
    const result = await query;
    return (
      Array.isArray(result) ? result : (result as { rows: T[] }).rows
    ) as T[];
  }

  /** One query: the node and its neighbours. Ids as in GET /lineage. */
  async fetch(id: string): Promise<Fetched> {
    const edge = (
      from: string,
      to: string,
      type: LineageEdgeType,
      percent?: number | null,
    ): LineageEdge =>
      percent === undefined || percent === null
        ? { from, to, type }
        : { from, to, type, percent };

    if (id.startsWith('run:')) {
      const runId = id.slice(4);
      const rows = await this.#q<{
        name: string | null;
        phase: string | null;
        dataset_ref: string | null;
        dataset_version: string | null;
        model_ref: string | null;
        version: number | null;
      }>(
        this.db.raw(
          `select r.name, r.phase, i.dataset_ref, i.dataset_version, null as model_ref, null as version
             from kubeai_runs r left join kubeai_run_inputs i on i.run_id = r.id where r.id = ?
           union all
           select null, null, null, null, mv.model_ref, mv.version
             from kubeai_model_versions mv where mv.run_id = ?`,
          [runId, runId],
        ),
      );
      const head = rows.find(r => r.name !== null)!;
      return {
        node: {
          id,
          type: 'run',
          runId,
          label: head.name!,
          status: head.phase!,
        },
        up: rows
          .filter(r => r.dataset_ref !== null)
          .map(r => {
            const from =
              r.dataset_version === null
                ? r.dataset_ref!
                : `${r.dataset_ref}@${r.dataset_version}`;
            return { id: from, edge: edge(from, id, 'inputTo') };
          }),
        down: rows
          .filter(r => r.model_ref !== null)
          .map(r => {
            const to = `${r.model_ref}@${r.version}`;
            return { id: to, edge: edge(id, to, 'produced') };
          }),
      };
    }
    if (id.startsWith('inferenceservice:')) {
      const rows = await this.#q<{
        observed: string | null;
        traffic: string;
        model_ref: string | null;
        version: number | null;
        percent: number | null;
      }>(
        this.db('kubeai_deployments as d')
          .leftJoin(
            'kubeai_deployment_traffic as t',
            't.service_ref',
            'd.service_ref',
          )
          .where('d.service_ref', id)
          .select(
            'd.observed',
            'd.traffic',
            't.model_ref',
            't.version',
            't.percent',
          ),
      );
      const observed = rows[0]?.observed
        ? JSON.parse(rows[0].observed)
        : undefined;
      const node: LineageNode = {
        id,
        type: 'inferenceService',
        entityRef: id,
        label: nameOf(id),
      };
      if (observed?.phase) node.status = observed.phase;
      if (observed) {
        node.observed = serviceSummary(observed);
        node.drift = computeDrift(JSON.parse(rows[0].traffic), observed);
      }
      return {
        node,
        up: rows
          .filter(r => r.model_ref)
          .map(r => {
            const from = `${r.model_ref}@${r.version}`;
            return { id: from, edge: edge(from, id, 'deployedTo', r.percent) };
          }),
        down: [],
      };
    }
    const at = id.lastIndexOf('@');
    if (id.startsWith('model:')) {
      const ref = id.slice(0, at);
      const version = Number(id.slice(at + 1));
      const rows = await this.#q<{
        state: string;
        run_id: string | null;
        service_ref: string | null;
        percent: number | null;
      }>(
        this.db('kubeai_model_versions as mv')
          .leftJoin('kubeai_deployment_traffic as t', function join() {
            this.on('t.model_ref', '=', 'mv.model_ref').andOn(
              't.version',
              '=',
              'mv.version',
            );
          })
          .where({ 'mv.model_ref': ref, 'mv.version': version })
          .select('mv.state', 'mv.run_id', 't.service_ref', 't.percent'),
      );
      const runId = rows[0]?.run_id;
      return {
        node: {
          id,
          type: 'modelVersion',
          entityRef: ref,
          version: String(version),
          label: `${nameOf(ref)} v${version}`,
          status: rows[0].state,
        },
        up: runId
          ? [
              {
                id: `run:${runId}`,
                edge: edge(`run:${runId}`, id, 'produced'),
              },
            ]
          : [],
        down: rows
          .filter(r => r.service_ref)
          .map(r => ({
            id: r.service_ref!,
            edge: edge(id, r.service_ref!, 'deployedTo', r.percent),
          })),
      };
    }
    // dataset versions (`dataset:ns/name@v`) and whole datasets (unversioned inputs)
    const ref = at > 0 ? id.slice(0, at) : id;
    const version = at > 0 ? id.slice(at + 1) : null;
    const query = this.db('kubeai_run_inputs')
      .where({ dataset_ref: ref })
      .select('run_id');
    if (version === null) query.whereNull('dataset_version');
    else query.where({ dataset_version: version });
    const rows = await this.#q<{ run_id: string }>(query);
    return {
      node:
        version === null
          ? undefined
          : {
              id,
              type: 'datasetVersion',
              entityRef: ref,
              version,
              label: `${nameOf(ref)}@${version}`,
            },
      up: [],
      down: rows.map(r => ({
        id: `run:${r.run_id}`,
        edge: edge(id, `run:${r.run_id}`, 'inputTo'),
      })),
    };
  }

  /** The lineage of a model (all versions, or one), in the semantics of GET /lineage. */
  async lineage(
    modelRef: string,
    version: number | undefined,
    direction: Direction,
    depth: number,
  ): Promise<LineageGraph> {
    const nodes = new Map<string, LineageNode>();
    const edges = new Map<string, LineageEdge>();
    const cache = new Map<string, Fetched>();
    const get = async (id: string) => {
      let fetched = cache.get(id);
      if (!fetched) {
        fetched = await this.fetch(id);
        cache.set(id, fetched);
        if (fetched.node) this.#add(nodes, edges, fetched.node);
      }
      return fetched;
    };

    let starts: string[];
    if (version === undefined) {
      const rows = await this.#q<{ version: number }>(
        this.db('kubeai_model_versions')
          .where({ model_ref: modelRef })
          .select('version'),
      );
      starts = rows.map(r => `${modelRef}@${r.version}`);
      nodes.set(modelRef, {
        id: modelRef,
        type: 'model',
        entityRef: modelRef,
        label: nameOf(modelRef),
      });
    } else {
      starts = [`${modelRef}@${version}`];
    }
    for (const id of starts) await get(id);

    const walks: ('up' | 'down')[] =
      direction === 'both'
        ? ['up', 'down']
        : [direction === 'upstream' ? 'up' : 'down'];
    for (const side of walks) {
      const visited = new Set(starts);
      let frontier = starts;
      for (let level = 0; level < depth && frontier.length; level++) {
        const next: string[] = [];
        for (const id of frontier) {
          for (const neighbour of (await get(id))[side]) {
            edges.set(
              `${neighbour.edge.from}|${neighbour.edge.to}|${neighbour.edge.type}`,
              neighbour.edge,
            );
            if (!visited.has(neighbour.id)) {
              visited.add(neighbour.id);
              next.push(neighbour.id);
              await get(neighbour.id);
              if (!cache.get(neighbour.id)!.node) {
                // a whole dataset
                nodes.set(neighbour.id, {
                  id: neighbour.id,
                  type: 'dataset',
                  entityRef: neighbour.id,
                  label: nameOf(neighbour.id),
                });
              }
            }
          }
        }
        frontier = next;
      }
    }
    // the answer's order (nodes by id, edges by their nodes), as the route gives it
    const graph = new GraphBuilder();
    for (const node of nodes.values()) graph.add(node);
    for (const e of edges.values()) graph.link(e.from, e.to, e.type, e.percent);
    return graph.graph(version === undefined ? [modelRef] : starts);
  }

  /** A version brings its model / dataset node and the versionOf edge. */
  #add(
    nodes: Map<string, LineageNode>,
    edges: Map<string, LineageEdge>,
    node: LineageNode,
  ) {
    nodes.set(node.id, node);
    if (node.type === 'modelVersion' || node.type === 'datasetVersion') {
      const parent = node.entityRef!;
      if (!nodes.has(parent)) {
        nodes.set(parent, {
          id: parent,
          type: node.type === 'modelVersion' ? 'model' : 'dataset',
          entityRef: parent,
          label: nameOf(parent),
        });
      }
      edges.set(`${node.id}|${parent}|versionOf`, {
        from: node.id,
        to: parent,
        type: 'versionOf',
      });
    }
  }
}
