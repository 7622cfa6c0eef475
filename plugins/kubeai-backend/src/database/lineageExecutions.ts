/**
 * Executions of periodic tasks in a lineage answer (see ./lineage.ts). A periodic task's CronJob
 * may start 20,000 executions a day (child runs, `kubeai_runs.parent_run_id`); the executions that
 * are on a path of the graph (they produced a model version in it) are nodes of their own, the
 * others are one summary node per task with their count per phase and where to list them
 * (`GET /runs?parent=<id>`). One grouped count per chunk of tasks, from the parent index.
 */
import { Knex } from 'knex';
import type { GraphBuilder } from './lineageGraph';
import { runNodeId } from './lineageGraph';
import { chunks } from './util';
import { whereInValues } from './lineageSql';

/** Id of the summary node of a periodic task's executions. */
export const executionsNodeId = (parentRunId: string) =>
  `${runNodeId(parentRunId)}/executions`;

/** Adds the summary nodes of the periodic tasks' runs in `g` (those with executions). */
export async function summarizeExecutions(
  db: Knex,
  g: GraphBuilder,
): Promise<void> {
  const parents: string[] = [];
  for (const [id, info] of g.runInfo) {
    if (info.child_count > 0) parents.push(id);
  }
  if (parents.length === 0) return;
  // executions already in the graph, by task and phase
  const shown = new Map<string, Map<string, number>>();
  for (const info of g.runInfo.values()) {
    if (!info.parent_run_id || !g.runs.has(info.parent_run_id)) continue;
    let phases = shown.get(info.parent_run_id);
    if (!phases) shown.set(info.parent_run_id, (phases = new Map()));
    phases.set(info.phase, (phases.get(info.phase) ?? 0) + 1);
  }
  const counts = new Map<string, Map<string, number>>();
  for (const chunk of chunks(parents)) {
    const rows: { parent_run_id: string; phase: string; n: number | string }[] =
      await whereInValues(
        db('kubeai_runs')
          .select('parent_run_id', 'phase')
          .count({ n: '*' })
          .groupBy('parent_run_id', 'phase'),
        'parent_run_id',
        chunk,
      );
    for (const row of rows) {
      let phases = counts.get(row.parent_run_id);
      if (!phases) counts.set(row.parent_run_id, (phases = new Map()));
      phases.set(row.phase, Number(row.n));
    }
  }
  for (const parentRunId of parents.sort()) {
    const all = counts.get(parentRunId);
    if (!all) continue;
    const inGraph = shown.get(parentRunId);
    const phases: Record<string, number> = {};
    let count = 0;
    let total = 0;
    for (const phase of [...all.keys()].sort()) {
      const n = all.get(phase)!;
      total += n;
      const rest = n - (inGraph?.get(phase) ?? 0);
      if (rest > 0) {
        phases[phase] = rest;
        count += rest;
      }
    }
    if (count === 0) continue;
    const node = g.add({
      id: executionsNodeId(parentRunId),
      type: 'run',
      label: `${count.toLocaleString('en-US')} execution${
        count === 1 ? '' : 's'
      }`,
      executions: {
        parentRunId,
        count,
        total,
        phases,
        list: `/runs?parent=${encodeURIComponent(parentRunId)}`,
      },
    });
    g.edge(node, g.runNode(parentRunId)!, 'executionOf');
  }
}
