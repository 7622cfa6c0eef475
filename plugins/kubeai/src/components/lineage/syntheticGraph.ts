import type {
  LineageEdge,
  LineageGraph,
  LineageNode,
} from '@kubeai/plugin-kubeai-common';

/**
 * A synthetic lineage graph of about `size` nodes, shaped like the registry's: one model with
 * many versions, each produced by a run that read a few dataset versions, a few services serving
 * the newest versions. Deterministic (seeded). Used by tests and `bench/lineage-ui`.
 */
export function syntheticLineage(size: number, seed = 42): LineageGraph {
  let s = seed >>> 0;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const nodes: LineageNode[] = [];
  const edges: LineageEdge[] = [];
  // Shares of the node budget: runs ≈ model versions ≈ 40 % each, dataset versions ≈ 12 %.
  const datasets = Math.max(1, Math.round(size * 0.01));
  const datasetVersions = Math.max(datasets, Math.round(size * 0.12));
  const services = Math.max(1, Math.round(size * 0.04));
  const rest = Math.max(2, size - datasets - datasetVersions - services - 1);
  const versions = Math.max(1, Math.floor(rest / 2));
  const model = 'model:default/hot-model';
  nodes.push({
    id: model,
    type: 'model',
    entityRef: model,
    label: 'hot-model',
  });
  for (let d = 0; d < datasets; d++) {
    const ref = `dataset:default/ds-${d}`;
    nodes.push({ id: ref, type: 'dataset', entityRef: ref, label: `ds-${d}` });
  }
  const dsv: string[] = [];
  for (let i = 0; i < datasetVersions; i++) {
    const d = i % datasets;
    const ref = `dataset:default/ds-${d}`;
    const id = `${ref}@v${i}`;
    dsv.push(id);
    nodes.push({
      id,
      type: 'datasetVersion',
      entityRef: ref,
      version: `v${i}`,
      label: `ds-${d}@v${i}`,
    });
    edges.push({ from: id, to: ref, type: 'versionOf' });
  }
  for (let v = 1; v <= versions; v++) {
    const runId = `run-${v}`;
    const runNode = `run:${runId}`;
    nodes.push({
      id: runNode,
      type: 'run',
      runId,
      label: `train-${v}`,
      status: rand() < 0.1 ? 'Failed' : 'Succeeded',
    });
    const inputs = 1 + Math.floor(rand() * 2);
    for (let k = 0; k < inputs; k++) {
      const idx = Math.min(
        dsv.length - 1,
        Math.floor(((v - 1) / versions) * dsv.length + rand() * 3),
      );
      edges.push({ from: dsv[idx], to: runNode, type: 'inputTo' });
    }
    const mv = `${model}@${v}`;
    nodes.push({
      id: mv,
      type: 'modelVersion',
      entityRef: model,
      version: String(v),
      label: `hot-model v${v}`,
      status: 'live',
    });
    edges.push({ from: runNode, to: mv, type: 'produced' });
    edges.push({ from: mv, to: model, type: 'versionOf' });
  }
  for (let i = 0; i < services; i++) {
    const ref = `inferenceservice:default/svc-${i}`;
    nodes.push({
      id: ref,
      type: 'inferenceService',
      entityRef: ref,
      label: `svc-${i}`,
      status: 'Ready',
    });
    const v = Math.max(1, versions - i);
    edges.push({
      from: `${model}@${v}`,
      to: ref,
      type: 'deployedTo',
      percent: 90,
    });
    if (v > 1) {
      edges.push({
        from: `${model}@${v - 1}`,
        to: ref,
        type: 'deployedTo',
        percent: 10,
      });
    }
  }
  return { roots: [model], nodes, edges };
}

/**
 * A synthetic lineage of about `size` nodes with the shape child runs give it: one forecasting
 * model whose periodic task (one run reading a few dataset versions) started thousands of
 * executions (child runs, `executionOf` edges to the periodic task's run); one execution in
 * twenty retrained and produced a model version, the newest of which services serve. This is the
 * lineage with every execution as a node of its own (the API summarises them unless asked not
 * to). Deterministic (seeded). Used by tests and `bench/lineage-ui`.
 */
export function syntheticChildRunLineage(
  size: number,
  seed = 42,
): LineageGraph {
  let s = seed >>> 0;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const nodes: LineageNode[] = [];
  const edges: LineageEdge[] = [];
  const datasets = Math.max(1, Math.round(size * 0.0005));
  const datasetVersions = Math.max(datasets, Math.round(size * 0.002));
  const services = Math.max(1, Math.round(size * 0.001));
  // executions + executions / 20 versions fill the rest
  const rest = Math.max(2, size - datasets - datasetVersions - services - 2);
  const executions = Math.max(1, Math.floor((rest * 20) / 21));
  const model = 'model:default/forecast';
  nodes.push({
    id: model,
    type: 'model',
    entityRef: model,
    label: 'forecast',
  });
  const parentId = 'forecast-daily';
  const parent = `run:${parentId}`;
  nodes.push({
    id: parent,
    type: 'run',
    runId: parentId,
    label: 'forecast-daily (CronJob)',
    status: 'Running',
  });
  for (let d = 0; d < datasets; d++) {
    const ref = `dataset:default/sales-${d}`;
    nodes.push({
      id: ref,
      type: 'dataset',
      entityRef: ref,
      label: `sales-${d}`,
    });
  }
  for (let i = 0; i < datasetVersions; i++) {
    const d = i % datasets;
    const ref = `dataset:default/sales-${d}`;
    const id = `${ref}@v${i}`;
    nodes.push({
      id,
      type: 'datasetVersion',
      entityRef: ref,
      version: `v${i}`,
      label: `sales-${d}@v${i}`,
    });
    edges.push({ from: id, to: ref, type: 'versionOf' });
    edges.push({ from: id, to: parent, type: 'inputTo' });
  }
  let versions = 0;
  for (let e = 1; e <= executions; e++) {
    const runId = `${parentId}-${e}`;
    const runNode = `run:${runId}`;
    const r = rand();
    nodes.push({
      id: runNode,
      type: 'run',
      runId,
      label: `${parentId}-${e}`,
      status: phaseOf(r),
    });
    edges.push({ from: runNode, to: parent, type: 'executionOf' });
    if (e % 20 === 0) {
      const v = ++versions;
      const mv = `${model}@${v}`;
      nodes.push({
        id: mv,
        type: 'modelVersion',
        entityRef: model,
        version: String(v),
        label: `forecast v${v}`,
        status: 'live',
      });
      edges.push({ from: runNode, to: mv, type: 'produced' });
      edges.push({ from: mv, to: model, type: 'versionOf' });
    }
  }
  for (let i = 0; i < services; i++) {
    const ref = `inferenceservice:default/forecast-${i}`;
    nodes.push({
      id: ref,
      type: 'inferenceService',
      entityRef: ref,
      label: `forecast-${i}`,
      status: 'Ready',
    });
    const v = Math.max(1, versions - i);
    edges.push({
      from: `${model}@${v}`,
      to: ref,
      type: 'deployedTo',
      percent: 100,
    });
  }
  return { roots: [model], nodes, edges };
}

function phaseOf(r: number) {
  if (r < 0.05) return 'Failed';
  return r < 0.06 ? 'Running' : 'Succeeded';
}
