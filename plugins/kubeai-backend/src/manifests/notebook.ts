/**
 * Kubeflow `Notebook` (`kubeflow.org/v1`): a Jupyter (or VS Code / RStudio) server with CPU,
 * memory and GPUs, a read-write workspace PVC (new or existing), datasets mounted read-only and
 * warehouse tables given as env (./tableInputs.ts).
 *
 * Kueue (`queue`): the labels go on the Notebook's own metadata. Kueue v0.19 has no Notebook
 * integration; the Kubeflow notebook controller builds a StatefulSet whose pod template carries a
 * copy of the Notebook's labels (and nothing of `spec.template.metadata`), not the StatefulSet's
 * own metadata — so Kueue's `statefulset` integration does not claim it, and its `pod` (plain
 * pods) integration does: the pod with `kueue.x-k8s.io/queue-name` is gated and admitted as a
 * Workload of its own, with the `kueue.x-k8s.io/priority-class` it carries. The cluster's Kueue
 * must enable the `pod` framework for the team namespaces. The flavor is the pod's nodeSelector.
 */
import { z } from 'zod';
import {
  compact,
  kueueLabels,
  containerEnv,
  containerResources,
  datasetVolumes,
} from './common';
import {
  datasetMountsSchema,
  dnsSubdomainSchema,
  envSchema,
  identitySchema,
  kueueSchema,
  imageSchema,
  memoryQuantitySchema,
  modelRefSchema,
  mountPathSchema,
  podOptionsSchema,
  resourcesSchema,
} from './inputs';
import { kubeaiMetadata } from './labels';
import { tableEnvNames, tableInputEnv, tableInputsSchema } from './tableInputs';
import type { KubeObject, PodSpec, Volume } from './types';

/** The workspace volume of a notebook: an existing PVC, or a new one of `size`. */
export const notebookWorkspaceSchema = z
  .object({
    /** Use this existing PVC. */
    existingClaim: dnsSubdomainSchema.optional(),
    /** Create a PVC `<notebook>-workspace` of this size. */
    size: memoryQuantitySchema.optional(),
    storageClassName: dnsSubdomainSchema.optional(),
    /** Where the workspace is mounted; `/home/jovyan` (the Kubeflow images' home) by default. */
    mountPath: mountPathSchema.optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (Boolean(w.existingClaim) === Boolean(w.size)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message:
          'set exactly one of existingClaim (use a PVC) and size (create one)',
      });
    }
    if (w.existingClaim && w.storageClassName) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['storageClassName'],
        message: 'storageClassName only applies to a new workspace (size)',
      });
    }
  });

/** Input of {@link buildNotebook}. */
export const notebookInputSchema = identitySchema
  .extend({
    image: imageSchema,
    resources: resourcesSchema.optional(),
    env: envSchema.optional(),
    workspace: notebookWorkspaceSchema.optional(),
    /** Datasets, mounted read-only (default `/data/<name>`). */
    datasets: datasetMountsSchema.optional(),
    /** Warehouse tables read, given as env `KUBEAI_INPUT_<NAME>_…` (notebooks take no `args`). */
    tables: tableInputsSchema.optional(),
    /** Model the notebook works on (label `kubeai.io/model`). */
    modelRef: modelRefSchema.optional(),
    /** Kueue LocalQueue and priority class, as labels the notebook's pod inherits. */
    queue: kueueSchema.optional(),
  })
  .merge(podOptionsSchema)
  .strict()
  .superRefine((input, ctx) => {
    const workspacePath = input.workspace?.mountPath ?? '/home/jovyan';
    (input.datasets ?? []).forEach((d, i) => {
      const path = d.mountPath ?? `/data/${d.name}`;
      if (input.workspace && path === workspacePath) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['datasets', i, 'mountPath'],
          message: `mount path "${path}" is the workspace's`,
        });
      }
    });
    (input.tables ?? []).forEach((t, i) => {
      if (t.args) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['tables', i, 'args'],
          message:
            'a notebook server takes no arguments; the table is given as env',
        });
      }
    });
    const tableEnv = new Set((input.tables ?? []).flatMap(tableEnvNames));
    (input.env ?? []).forEach((e, i) => {
      if (tableEnv.has(e.name)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['env', i, 'name'],
          message: `"${e.name}" is set by a table input`,
        });
      }
    });
  });
export type NotebookInput = z.input<typeof notebookInputSchema>;

/** Name of the workspace PVC a notebook creates. */
export function notebookWorkspaceClaimName(notebookName: string): string {
  return `${notebookName}-workspace`;
}

/**
 * Builds the objects of a notebook, in apply order: the workspace PVC (when one is created) and
 * the `Notebook`. The input is validated with {@link notebookInputSchema}.
 */
export function buildNotebook(rawInput: NotebookInput): KubeObject[] {
  const input = notebookInputSchema.parse(rawInput);
  const identity = { entityRef: input.entityRef, modelRef: input.modelRef };
  const objects: KubeObject[] = [];

  const volumes: Volume[] = [];
  const volumeMounts: Array<{
    name: string;
    mountPath: string;
    readOnly?: boolean;
  }> = [];
  if (input.workspace) {
    const claimName =
      input.workspace.existingClaim ?? notebookWorkspaceClaimName(input.name);
    if (input.workspace.size) {
      objects.push({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: kubeaiMetadata(claimName, input.namespace, identity),
        spec: compact({
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: input.workspace.size } },
          storageClassName: input.workspace.storageClassName,
        }),
      });
    }
    volumes.push({ name: 'workspace', persistentVolumeClaim: { claimName } });
    volumeMounts.push({
      name: 'workspace',
      mountPath: input.workspace.mountPath ?? '/home/jovyan',
    });
  }
  const datasets = datasetVolumes(input.datasets);
  volumes.push(...datasets.volumes);
  volumeMounts.push(...datasets.volumeMounts);

  // tables are read by the notebook's code: it is told where through env
  const env = [
    ...(containerEnv(input.env) ?? []),
    ...tableInputEnv(input.tables),
  ];
  const podSpec: PodSpec = compact({
    containers: [
      compact({
        name: input.name,
        image: input.image,
        resources: containerResources(input.resources),
        env: env.length > 0 ? env : undefined,
        volumeMounts: volumeMounts.length > 0 ? volumeMounts : undefined,
      }),
    ],
    volumes: volumes.length > 0 ? volumes : undefined,
    serviceAccountName: input.serviceAccountName,
    priorityClassName: input.priorityClassName,
    nodeSelector: input.nodeSelector,
  });

  objects.push({
    apiVersion: 'kubeflow.org/v1',
    kind: 'Notebook',
    metadata: kubeaiMetadata(
      input.name,
      input.namespace,
      identity,
      kueueLabels(input.queue),
    ),
    spec: { template: { spec: podSpec } },
  });
  return objects;
}
