/**
 * The read-only `kubeai:*` actions of the actions registry (MCP tools `kubeai.<name>`): questions
 * an agent is asked about models in production — which versions a model has, which services run
 * it, where a version came from, what breaks when something is retired, how a run is doing.
 *
 * Each one is one or two GET calls of the KubeAI API with the caller's token (so the caller's read
 * permissions apply, as for the UI), answered in a shape sized for a model's context: lists are
 * capped and the caps reported (`totalItems`, `truncated`), and each answer has a one-line
 * `summary`. They are not scaffolder actions (a template has no use for them).
 */
import type {
  DeploymentList,
  Impact,
  LineageGraph,
  ModelVersionList,
  Run,
} from '@kubeai/plugin-kubeai-common';
import type { z as zod } from 'zod/v3';
import {
  apiError,
  parseRef,
  type JsonValue,
  type KubeaiActionDefinition,
  type Z,
} from './actionParts';
import { specComponent, specDescription, specSchema } from './specZod';

const json = (value: unknown) => value as JsonValue;

/** `limit` of a list: 1 to `max`, default `fallback`. */
const limitField = (z: Z, fallback: number, max: number, what: string) =>
  z
    .number()
    .int()
    .min(1)
    .max(max)
    .optional()
    .describe(
      `At most this many ${what} (default ${fallback}, at most ${max}).`,
    );

const modelField = (z: Z) =>
  specSchema(z, 'ModelRef').describe(
    `The Model entity. ${specDescription(specComponent('ModelRef'))}`,
  );

/** Registry `model:<ns>/<name>` of a model ref given as `name`, `ns/name` or `model:ns/name`. */
function modelRefOf(input: unknown) {
  const entity = parseRef(String(input), 'model');
  return {
    entity,
    modelRef: `model:${entity.namespace}/${entity.name}`.toLocaleLowerCase(
      'en-US',
    ),
  };
}

export const modelVersionsRead: KubeaiActionDefinition = {
  id: 'kubeai:model:versions',
  name: 'list-model-versions',
  title: 'List the versions of a model',
  readOnly: true,
  description:
    'Lists the registered versions of a Model, newest first (`GET /api/kubeai/models/{namespace}/{name}/versions`): version number, state (e.g. production, staging, archived), aliases (e.g. "canary", "champion"), tags, artifact URI, framework, metrics and the run that produced it. Use it to answer "what is the latest version of X", "which version is aliased champion", or to find a version number before asking list-deployments or get-lineage about it.',
  examples: [
    {
      title: 'The five newest versions of shoe-brand-classifier',
      input: { model: 'model:default/shoe-brand-classifier', limit: 5 },
    },
  ],
  input: z =>
    z.object({
      model: modelField(z),
      state: specSchema(z, 'ModelVersionState')
        .optional()
        .describe('Only versions in this state.'),
      tag: z.string().optional().describe('Only versions carrying this tag.'),
      limit: limitField(z, 20, 100, 'versions'),
    }),
  output: z =>
    z.object({
      modelRef: z.string(),
      items: z.array(
        z.object({
          version: z.number(),
          state: z.string(),
          aliases: z.array(z.string()),
          tags: z.array(z.string()),
          artifactUri: z.string(),
          framework: z.string().optional(),
          metrics: z.record(z.string(), z.unknown()),
          runId: z.string().optional(),
          createdBy: z.string(),
          createdAt: z.string(),
        }),
      ),
      totalItems: z
        .number()
        .describe('Versions matching, of which `items` are the newest.'),
      summary: z.string(),
    }),
  async run(client, input, options) {
    const { entity, modelRef } = modelRefOf(input.model);
    const list: ModelVersionList = await client.listModelVersions(
      entity,
      { state: input.state, tag: input.tag, limit: input.limit ?? 20 },
      { token: options.token },
    );
    const items = list.items.map(v => ({
      version: v.version,
      state: v.state,
      aliases: v.aliases,
      tags: v.tags,
      artifactUri: v.artifact.uri,
      ...(v.framework ? { framework: v.framework } : {}),
      metrics: v.metrics,
      ...(v.runId ? { runId: v.runId } : {}),
      createdBy: v.createdBy,
      createdAt: v.createdAt,
    }));
    const newest = items[0];
    return {
      modelRef,
      items: json(items),
      totalItems: list.totalItems,
      summary: newest
        ? `${modelRef} has ${
            list.totalItems
          } matching version(s); the newest is ${newest.version} (${
            newest.state
          }${
            newest.aliases.length
              ? `, aliases ${newest.aliases.join(', ')}`
              : ''
          }).`
        : `${modelRef} has no matching versions.`,
    };
  },
};

export const deploymentsRead: KubeaiActionDefinition = {
  id: 'kubeai:deployments:list',
  name: 'list-deployments',
  title: 'Which services run a model (version)',
  readOnly: true,
  description:
    'Answers "which services run model X (version N)": the recorded deployments of inference services (`GET /api/kubeai/deployments`), each with its cluster, namespace, the model versions it serves and their traffic share, its revision, the phase the cluster reports and whether it drifted from what was recorded. Give `model` (and `version`) for a model, or `service` for one InferenceService entity; with neither, every deployment (up to `limit`; `totalItems` counts them all).',
  examples: [
    {
      title: 'Which services run shoe-brand-classifier v7?',
      input: { model: 'model:default/shoe-brand-classifier', version: 7 },
    },
  ],
  input: z =>
    z.object({
      model: modelField(z).optional(),
      version: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe(
          'With `model`: only services serving this version (with any traffic share).',
        ),
      service: specSchema(z, 'ServiceRef')
        .optional()
        .describe(
          `Only the deployment of this InferenceService entity. ${specDescription(
            specComponent('ServiceRef'),
          )}`,
        ),
      limit: limitField(z, 50, 100, 'deployments'),
    }),
  output: z =>
    z.object({
      items: z.array(
        z.object({
          serviceRef: z.string(),
          cluster: z.string(),
          namespace: z.string(),
          name: z.string(),
          modelRef: z.string(),
          traffic: z
            .array(z.object({ version: z.number(), percent: z.number() }))
            .describe('Versions served and their share of the traffic.'),
          revision: z.number(),
          phase: z
            .string()
            .optional()
            .describe('What the cluster reports, once observed.'),
          drift: z.string().optional().describe('inSync, drifted or unknown.'),
          updatedAt: z.string(),
          updatedBy: z.string(),
        }),
      ),
      totalItems: z.number(),
      summary: z.string(),
    }),
  async run(client, input, options) {
    const model = input.model ? modelRefOf(input.model).modelRef : undefined;
    const list: DeploymentList = await client.listDeployments(
      {
        model,
        version: input.version,
        service: input.service,
        limit: input.limit ?? 50,
      },
      { token: options.token },
    );
    const items = list.items.map(d => {
      const phase = (d.observed as { phase?: unknown } | null)?.phase;
      return {
        serviceRef: d.serviceRef,
        cluster: d.cluster,
        namespace: d.namespace,
        name: d.name,
        modelRef: d.modelRef,
        traffic: d.traffic,
        revision: d.revision,
        ...(typeof phase === 'string' ? { phase } : {}),
        ...(d.drift ? { drift: d.drift.status } : {}),
        updatedAt: d.updatedAt,
        updatedBy: d.updatedBy,
      };
    });
    const what = model
      ? `${model}${input.version ? ` version ${input.version}` : ''}`
      : input.service ?? 'the filter';
    return {
      items: json(items),
      totalItems: list.totalItems,
      summary: items.length
        ? `${list.totalItems} service(s) run ${what}: ${items
            .map(
              d =>
                `${d.serviceRef} in ${d.cluster}/${d.namespace} (${d.traffic
                  .map(t => `v${t.version} ${t.percent}%`)
                  .join(', ')})`,
            )
            .join('; ')}.`
        : `No service runs ${what}.`,
    };
  },
};

/** Default and largest node / edge caps of a summarised lineage answer. */
export const LINEAGE_CAPS = {
  nodes: { fallback: 60, max: 300 },
  edges: { fallback: 120, max: 600 },
} as const;

/**
 * The graph cut to `maxNodes` nodes, nearest to the roots first (breadth-first over the edges in
 * either direction), and `maxEdges` of the edges between kept nodes.
 */
export function summariseLineage(
  graph: LineageGraph,
  maxNodes: number,
  maxEdges: number,
) {
  const neighbours = new Map<string, string[]>();
  for (const edge of graph.edges) {
    neighbours.set(edge.from, [...(neighbours.get(edge.from) ?? []), edge.to]);
    neighbours.set(edge.to, [...(neighbours.get(edge.to) ?? []), edge.from]);
  }
  const order: string[] = [];
  const seen = new Set<string>();
  let frontier = graph.roots.filter(id => !seen.has(id) && seen.add(id));
  while (frontier.length && order.length < maxNodes) {
    order.push(...frontier);
    const next: string[] = [];
    for (const id of frontier) {
      for (const n of neighbours.get(id) ?? []) {
        if (!seen.has(n)) {
          seen.add(n);
          next.push(n);
        }
      }
    }
    frontier = next;
  }
  // nodes the edges do not reach (none in practice) come last
  for (const node of graph.nodes) if (!seen.has(node.id)) order.push(node.id);
  const kept = new Set(order.slice(0, maxNodes));
  const nodes = graph.nodes
    .filter(n => kept.has(n.id))
    .map(n => ({
      id: n.id,
      type: n.type,
      label: n.label,
      ...(n.entityRef ? { entityRef: n.entityRef } : {}),
      ...(n.version ? { version: n.version } : {}),
      ...(n.runId ? { runId: n.runId } : {}),
      ...(n.status ? { status: n.status } : {}),
      ...(n.discovered ? { discovered: true } : {}),
      ...(n.executions
        ? {
            executions: {
              count: n.executions.count,
              total: n.executions.total,
              phases: n.executions.phases,
            },
          }
        : {}),
    }));
  const inside = graph.edges.filter(e => kept.has(e.from) && kept.has(e.to));
  const edges = inside.slice(0, maxEdges).map(e => ({
    from: e.from,
    to: e.to,
    type: e.type,
    ...(e.percent !== undefined ? { percent: e.percent } : {}),
  }));
  return {
    nodes,
    edges,
    truncated:
      nodes.length < graph.nodes.length || edges.length < graph.edges.length,
  };
}

export const lineageRead: KubeaiActionDefinition = {
  id: 'kubeai:lineage:get',
  name: 'get-lineage',
  title: 'Lineage of a model, dataset, service or run',
  readOnly: true,
  description: `Where something came from and where it went (\`GET /api/kubeai/lineage\`): from a Model, Dataset or InferenceService entity (optionally one version), or a run, the graph of dataset versions → runs (inputTo) → model versions (produced) → inference services (deployedTo / servedBy). Answers e.g. "which data trained the version in production" or "what did this run produce". Summarised for an agent: at most \`maxNodes\` nodes (nearest to the start first) and \`maxEdges\` edges; \`truncated\` says the graph was cut and \`totals\` how big it is — ask again with a smaller \`depth\` or a narrower start (a version, \`direction\`). A periodic task's many executions come as one summary node with counts per phase.`,
  examples: [
    {
      title: 'What trained and what serves shoe-brand-classifier v7',
      input: {
        entityRef: 'model:default/shoe-brand-classifier',
        version: '7',
        depth: 2,
      },
    },
  ],
  input: z =>
    z.object({
      entityRef: specSchema(z, 'LineageEntityRef')
        .optional()
        .describe(
          `Start at this entity (give it or \`runId\`). ${specDescription(
            specComponent('LineageEntityRef'),
          )}`,
        ),
      version: z
        .string()
        .optional()
        .describe(
          'With a model or dataset `entityRef`: start at this version (a number for models, e.g. "7").',
        ),
      runId: specSchema(z, 'RunId')
        .optional()
        .describe('Start at this run (give it or `entityRef`).'),
      direction: z
        .enum(['upstream', 'downstream', 'both'])
        .optional()
        .describe(
          'upstream: where it came from; downstream: what it fed; both (default).',
        ),
      depth: z
        .number()
        .int()
        .min(1)
        .max(10)
        .optional()
        .describe('Hops to follow from the start (default 3).'),
      maxNodes: limitField(
        z,
        LINEAGE_CAPS.nodes.fallback,
        LINEAGE_CAPS.nodes.max,
        'nodes',
      ),
      maxEdges: limitField(
        z,
        LINEAGE_CAPS.edges.fallback,
        LINEAGE_CAPS.edges.max,
        'edges',
      ),
    }),
  output: z =>
    z.object({
      roots: z.array(z.string()).describe('Ids of the start nodes.'),
      nodes: z.array(
        z.object({
          id: z.string(),
          type: z.string(),
          label: z.string(),
          entityRef: z.string().optional(),
          version: z.string().optional(),
          runId: z.string().optional(),
          status: z.string().optional(),
          discovered: z.boolean().optional(),
          executions: z
            .object({
              count: z.number(),
              total: z.number(),
              phases: z.record(z.string(), z.number()),
            })
            .optional()
            .describe("A periodic task's executions that are not nodes."),
        }),
      ),
      edges: z.array(
        z.object({
          from: z.string(),
          to: z.string(),
          type: z.string(),
          percent: z.number().optional(),
        }),
      ),
      totals: z
        .object({ nodes: z.number(), edges: z.number() })
        .describe('Size of the whole graph.'),
      truncated: z
        .boolean()
        .describe('True when nodes or edges were left out (see totals).'),
      summary: z.string(),
    }),
  async run(client, input, options) {
    const graph = await client.getLineage(
      {
        entityRef: input.entityRef,
        version: input.version,
        runId: input.runId,
        direction: input.direction,
        depth: input.depth,
      },
      { token: options.token },
    );
    const cut = summariseLineage(
      graph,
      input.maxNodes ?? LINEAGE_CAPS.nodes.fallback,
      input.maxEdges ?? LINEAGE_CAPS.edges.fallback,
    );
    const byType = new Map<string, number>();
    for (const node of graph.nodes) {
      byType.set(node.type, (byType.get(node.type) ?? 0) + 1);
    }
    return {
      roots: graph.roots,
      nodes: json(cut.nodes),
      edges: json(cut.edges),
      totals: { nodes: graph.nodes.length, edges: graph.edges.length },
      truncated: cut.truncated,
      summary: `${graph.nodes.length} nodes (${[...byType]
        .map(([type, n]) => `${n} ${type}`)
        .join(', ')}), ${graph.edges.length} edges${
        cut.truncated
          ? `; showing ${cut.nodes.length} nodes and ${cut.edges.length} edges nearest the start`
          : ''
      }.`,
    };
  },
};

export const impactRead: KubeaiActionDefinition = {
  id: 'kubeai:impact:get',
  name: 'get-impact',
  title: 'What breaks when a model or dataset is retired',
  readOnly: true,
  description:
    'Before retiring (archiving, deleting) a dataset, a dataset version, a model or a model version: what depends on it (`GET /api/kubeai/impact`) — the inference services serving it (recorded, observed in the cluster, discovered, or per the catalog) with their traffic, the pipelines and periodic tasks reading it, the runs it fed, the model versions those produced and the models that depend on it. Each item says what it was reached from (`via`); `totals` count every item when a list was capped. An empty answer means nothing known depends on it.',
  examples: [
    {
      title: 'What depends on version v3 of the shoe images?',
      input: { entityRef: 'dataset:default/shoe-images', version: 'v3' },
    },
  ],
  input: z =>
    z.object({
      entityRef: specSchema(z, 'ImpactEntityRef').describe(
        `The dataset or model. ${specDescription(
          specComponent('ImpactEntityRef'),
        )}`,
      ),
      version: z
        .string()
        .optional()
        .describe('Only this version of it (a number for models, e.g. "7").'),
    }),
  output: (z: Z): zod.AnyZodObject => {
    const via = z.string().describe('What it was reached from.');
    const run = z.object({
      id: z.string(),
      name: z.string(),
      kind: z.string(),
      phase: z.string(),
      cluster: z.string(),
      namespace: z.string(),
      modelRef: z.string().optional(),
      periodic: z.boolean(),
      childRuns: z.number(),
      via,
    });
    return z.object({
      entityRef: z.string(),
      version: z.string().optional(),
      services: z.array(
        z.object({
          serviceRef: z.string(),
          cluster: z.string().optional(),
          namespace: z.string().optional(),
          name: z.string().optional(),
          modelRef: z.string(),
          versions: z.array(
            z.object({
              version: z.number(),
              percent: z.number(),
              source: z.string(),
            }),
          ),
          sources: z.array(z.string()),
          phase: z.string().optional(),
          via,
        }),
      ),
      pipelines: z.array(run),
      runs: z.array(run),
      modelVersions: z.array(
        z.object({
          modelRef: z.string(),
          version: z.number(),
          state: z.string(),
          runId: z.string().optional(),
          via,
        }),
      ),
      models: z.array(
        z.object({ entityRef: z.string(), relation: z.string(), via }),
      ),
      totals: z.object({
        services: z.number(),
        pipelines: z.number(),
        runs: z.number(),
        modelVersions: z.number(),
        models: z.number(),
      }),
      summary: z.string(),
    });
  },
  async run(client, input, options) {
    const impact: Impact = await client.getImpact(
      { entityRef: input.entityRef, version: input.version },
      { token: options.token },
    );
    const t = impact.totals;
    const what = `${impact.entityRef}${
      impact.version ? ` version ${impact.version}` : ''
    }`;
    const parts = [
      [t.services, 'service(s) serving it'],
      [t.pipelines, 'pipeline(s)'],
      [t.runs, 'run(s)'],
      [t.modelVersions, 'model version(s)'],
      [t.models, 'model(s)'],
    ].filter(([n]) => Number(n) > 0);
    return {
      ...(impact as unknown as Record<string, JsonValue>),
      summary: parts.length
        ? `Retiring ${what} affects ${parts
            .map(([n, label]) => `${n} ${label}`)
            .join(', ')}.`
        : `Nothing known depends on ${what}.`,
    } as Record<string, JsonValue>;
  },
};

/** Most characters of a log tail in an answer (the end is kept). */
export const LOG_TAIL_MAX_CHARS = 16_000;

export const runRead: KubeaiActionDefinition = {
  id: 'kubeai:run:get',
  name: 'get-run',
  title: 'A run, its phase and the tail of its log',
  readOnly: true,
  description: `One run of the registry — a training task, notebook, pipeline or one execution of a periodic task (\`GET /api/kubeai/runs/{id}\`): its phase (Pending, Running, Succeeded, Failed, …) and why, when it started and finished, its inputs (dataset versions), outputs (model versions), parameters and metrics, its pool (Kueue queue and flavor, admitted or why it waits) and its cost; and the last \`tailLines\` lines of its pods' logs (\`GET /api/kubeai/runs/{id}/logs\`, at most ${LOG_TAIL_MAX_CHARS} characters, the end kept). When the logs cannot be read (no pods any more, a pod not scheduled, the node unreachable) \`logTail\` is absent and \`logUnavailable\` says why. Run ids come from list-model-versions (runId), get-lineage or get-impact.`,
  examples: [
    {
      title: 'How is this run doing?',
      input: { runId: '3f1c2a9e-5b7d-4e21-9c3a-0d2f6b8e4a17', tailLines: 50 },
    },
  ],
  input: z =>
    z.object({
      runId: specSchema(z, 'RunId').describe('The run id.'),
      tailLines: z
        .number()
        .int()
        .min(0)
        .max(1000)
        .optional()
        .describe(
          'Log lines from the end of each pod log (default 50; 0: no log).',
        ),
    }),
  output: z =>
    z.object({
      run: z
        .object({
          id: z.string(),
          kind: z.string(),
          cluster: z.string(),
          namespace: z.string(),
          name: z.string(),
          phase: z.string(),
          message: z.string().optional(),
          reason: z.string().optional(),
          modelRef: z.string().optional(),
          startedAt: z.string().optional(),
          finishedAt: z.string().optional(),
          parentRunId: z.string().optional(),
          executions: z.number().optional(),
          inputs: z.array(z.record(z.string(), z.unknown())),
          outputs: z.array(z.record(z.string(), z.unknown())),
          params: z.record(z.string(), z.unknown()),
          metrics: z.record(z.string(), z.unknown()).optional(),
          clusterQueue: z.string().optional(),
          flavor: z.string().optional(),
          admission: z
            .record(z.string(), z.unknown())
            .optional()
            .describe(
              'Its Kueue workload: admitted to a queue on a flavor, or pending and why (`message`).',
            ),
          cost: z
            .record(z.string(), z.unknown())
            .optional()
            .describe(
              'What it cost (`amount`, `currency`; `final` false while it runs).',
            ),
          createdBy: z.string(),
        })
        .describe('The run as the registry records it.'),
      logTail: z.string().optional(),
      logUnavailable: z.string().optional(),
      summary: z.string(),
    }),
  async run(client, input, options) {
    const run: Run = await client.getRun(String(input.runId), {
      token: options.token,
    });
    const tail = input.tailLines ?? 50;
    let logTail: string | undefined;
    let logUnavailable: string | undefined;
    if (tail > 0) {
      try {
        const text = await client.getRunLogs(
          run.id,
          { tail },
          { token: options.token },
        );
        logTail =
          text.length > LOG_TAIL_MAX_CHARS
            ? text.slice(text.length - LOG_TAIL_MAX_CHARS)
            : text;
      } catch (error) {
        // the run is still worth answering: no pods left, not scheduled, node unreachable
        logUnavailable = String((apiError(error) as Error).message ?? error);
      }
    }
    const {
      observed: _o,
      observedAt: _a,
      schedule: _s,
      uid: _u,
      ...rest
    } = run;
    const { updatedAt: _up, createdAt: _c, ...summaryRun } = rest;
    return {
      run: json(summaryRun),
      ...(logTail !== undefined ? { logTail } : {}),
      ...(logUnavailable ? { logUnavailable } : {}),
      summary: `${run.kind} ${run.cluster}/${run.namespace}/${run.name} is ${
        run.phase
      }${run.reason ? ` (${run.reason})` : ''}${
        run.message ? `: ${run.message}` : ''
      }.`,
    };
  },
};
