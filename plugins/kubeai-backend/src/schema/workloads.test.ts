/**
 * The workload table (`@kubeai/plugin-kubeai-common`, workloads.ts) against everything that
 * repeats it outside TypeScript: the OpenAPI enums, the scaffolder action, the training template,
 * the CRDs (pinned upstream, and the local control plane's fallback set). A kind added to one and
 * not the others fails here.
 */
import {
  CLUSTER_KINDS,
  DATA_OBJECTS,
  QUEUE_OBJECTS,
  RUN_ROLES,
  TRAINING_WORKLOAD_KINDS,
  WORKLOAD_KINDS,
  WORKLOADS,
  clusterKindSpec,
  type ClusterKindSpec,
} from '@kubeai/plugin-kubeai-common';
import { kubeaiActions, kubeaiOpenApiSpec } from '@kubeai/plugin-kubeai-node';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { OBSERVED_KINDS } from '../informers/kinds';
import { notebookWorkspaceClaimName, trainingInputSchema } from '../manifests';
import { findCrd } from '../manifests/__testUtils__/crdSchemas';

const repoRoot = path.resolve(__dirname, '../../../..');
const schemas = kubeaiOpenApiSpec.components.schemas as Record<string, any>;

/** Every replica type of the table's training kinds. */
const replicaTypes = [
  ...new Set(
    TRAINING_WORKLOAD_KINDS.flatMap(
      kind => (WORKLOADS[kind].replicas?.types ?? []) as readonly string[],
    ),
  ),
].sort();

/** The training kinds with replica types. */
const replicatedKinds = TRAINING_WORKLOAD_KINDS.filter(
  kind => WORKLOADS[kind].replicas,
);

/** Kinds of the table whose CRD no Kubernetes 1.20 apiserver accepts (checked against newest/ only). */
const NOT_ON_1_20 = ['TrainJob'];
/** Kinds whose upstream CRD is pinned under newest/ only; Workload's runs locally as the project's own minimal CRD. */
const UPSTREAM_NEWEST_ONLY = [...NOT_ON_1_20, 'Workload'];

describe('the workload table', () => {
  it('is the OpenAPI TrainingKind, ObservedKind and RunKind enums', () => {
    expect(schemas.TrainingKind.enum).toEqual(TRAINING_WORKLOAD_KINDS);
    expect(schemas.ObservedKind.enum).toEqual(CLUSTER_KINDS);
    expect(schemas.RunKind.enum).toEqual(RUN_ROLES);
  });

  it('has the replica types of the OpenAPI ReplicaCounts and ReplicaResources', () => {
    expect(Object.keys(schemas.ReplicaCounts.properties).sort()).toEqual(
      replicaTypes,
    );
    expect(Object.keys(schemas.ReplicaResources.properties).sort()).toEqual(
      replicaTypes,
    );
  });

  it('is what the builders, the informers and the scaffolder action take', () => {
    const union = (trainingInputSchema as any)._def.schema as z.ZodTypeAny;
    expect((union as any).options.map((o: any) => o.shape.kind.value)).toEqual(
      TRAINING_WORKLOAD_KINDS,
    );
    expect(OBSERVED_KINDS.map(k => k.kind)).toEqual(CLUSTER_KINDS);
    const action = kubeaiActions.find(a => a.id === 'kubeai:job:create')!;
    expect(action.input(z as any).shape.kind.options).toEqual(
      TRAINING_WORKLOAD_KINDS,
    );
  });

  it('is offered by the training template: every kind but TrainJob, replicas for the replicated ones', () => {
    const template = YAML.parse(
      fs.readFileSync(
        path.join(repoRoot, 'templates/training-job/template.yaml'),
        'utf8',
      ),
    );
    const kindParameter = template.spec.parameters
      .map((p: any) => p.properties?.kind)
      .find(Boolean);
    expect([...kindParameter.enum].sort()).toEqual(
      TRAINING_WORKLOAD_KINDS.filter(k => k !== 'TrainJob').sort(),
    );
    expect(kindParameter.enumNames).toHaveLength(kindParameter.enum.length);
    const replicas: string = template.spec.steps.find(
      (s: any) => s.action === 'kubeai:job:create',
    ).input.replicas;
    const listed = /parameters\.kind in \[([^\]]*)\]/.exec(replicas)![1];
    expect(
      listed
        .split(',')
        .map(k => k.trim().replace(/^'|'$/g, ''))
        .sort(),
    ).toEqual([...replicatedKinds].sort());
  });

  it('names main replicas among the replica types, and versions once each', () => {
    for (const kind of WORKLOAD_KINDS) {
      const row = WORKLOADS[kind];
      expect([kind, new Set(row.versions).size]).toEqual([
        kind,
        row.versions.length,
      ]);
      expect(row.plural).toMatch(/^[a-z0-9]+$/);
    }
    for (const kind of replicatedKinds) {
      const { types, main } = WORKLOADS[kind].replicas!;
      const known: readonly string[] = types;
      expect([kind, main.filter(t => !known.includes(t))]).toEqual([kind, []]);
    }
  });

  it('names the workspace PVC of a notebook as the notebook builder does', () => {
    const [workspace] = WORKLOADS.Notebook.companions;
    expect(`nb${workspace.nameSuffix}`).toBe(notebookWorkspaceClaimName('nb'));
  });

  const customKinds = CLUSTER_KINDS.filter(
    kind => !['', 'batch'].includes(clusterKindSpec(kind)!.group),
  );

  it.each(customKinds)(
    '%s: group, plural and versions are those of the pinned upstream CRD',
    kind => {
      const row = clusterKindSpec(kind) as ClusterKindSpec;
      const set = UPSTREAM_NEWEST_ONLY.includes(kind) ? 'newest' : 'top';
      const crd = findCrd(`${row.group}/${row.versions[0]}`, kind, set);
      expect(crd).toBeDefined();
      const doc = YAML.parse(fs.readFileSync(crd!.file, 'utf8'));
      expect(doc.spec.names.plural).toBe(row.plural);
      const served = doc.spec.versions
        .filter((v: any) => v.served)
        .map((v: any) => v.name);
      expect(served).toContain(row.versions[0]);
    },
  );

  it.each(customKinds.filter(kind => !NOT_ON_1_20.includes(kind)))(
    "%s has a minimal CRD in the local control plane's fallback set",
    kind => {
      const row = clusterKindSpec(kind) as ClusterKindSpec;
      const file = path.join(
        repoRoot,
        'scripts/cluster/crds',
        `${row.group}_${row.plural}.yaml`,
      );
      const doc = YAML.parse(fs.readFileSync(file, 'utf8'));
      expect(doc.spec.group).toBe(row.group);
      expect(doc.spec.names).toMatchObject({ kind, plural: row.plural });
      expect(
        doc.spec.versions.filter((v: any) => v.served).map((v: any) => v.name),
      ).toContain(row.versions[0]);
    },
  );

  it('lists the data objects after the workloads, then the Kueue objects', () => {
    expect(CLUSTER_KINDS).toEqual([
      ...WORKLOAD_KINDS,
      ...Object.keys(DATA_OBJECTS),
      ...Object.keys(QUEUE_OBJECTS),
    ]);
  });
});
