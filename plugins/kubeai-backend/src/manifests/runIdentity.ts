/**
 * Run identity in the objects of a run: every object KubeAI labels gets `kubeai.io/run=<id>`, and
 * every container of its pods learns who it runs for and how to tell the portal:
 *
 * - `KUBEAI_RUN_ID`, `KUBEAI_MODEL` (the model entity ref, when the run has one), `KUBEAI_API_URL`,
 *   `KUBEAI_CLUSTER` (the cluster's name in the portal), `KUBEAI_NAMESPACE`;
 * - the run-scoped credential, a file `KUBEAI_RUN_TOKEN_FILE` from the run's Secret (a volume, not
 *   an env value: the portal renews the Secret while the run lives, and the kubelet updates
 *   mounted Secrets, which env values never are).
 *
 * Pure: the builders' output in, the same objects with the identity out. Pod specs are found by
 * shape (an object with a `containers` array; an Argo template with a `container`), so every
 * workload kind — Jobs, CronJobs, Training Operator replicas, notebooks, pipeline steps — gets the
 * same, from one place. `cli/kubeai.py` (the registration CLI) reads these variables.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from './types';
import { KUBEAI_LABELS, KUBEAI_MANAGER, toLabelValue } from './labels';

/** Where the run's credential is mounted, and its file. */
export const RUN_CREDENTIAL_MOUNT_PATH = '/var/run/secrets/kubeai';
export const RUN_CREDENTIAL_FILE = `${RUN_CREDENTIAL_MOUNT_PATH}/token`;
/** Secret key of the token. */
export const RUN_CREDENTIAL_KEY = 'token';
const VOLUME_NAME = 'kubeai-run-credential';

/** The environment variables every pod of a run gets. */
export const RUN_ENV = {
  runId: 'KUBEAI_RUN_ID',
  model: 'KUBEAI_MODEL',
  apiUrl: 'KUBEAI_API_URL',
  cluster: 'KUBEAI_CLUSTER',
  namespace: 'KUBEAI_NAMESPACE',
  tokenFile: 'KUBEAI_RUN_TOKEN_FILE',
} as const;

export interface RunIdentityInput {
  runId: string;
  modelRef?: string;
  /** The KubeAI API as the run's pods reach it, e.g. `http://backstage.backstage:7007/api/kubeai`. */
  apiUrl: string;
  /** The cluster's name in the portal (a pipeline's rollout steps name it to the API). */
  cluster: string;
  /** The run's namespace. */
  namespace: string;
  /** The Secret holding the run's credential, in the objects' namespace. */
  secretName: string;
  /**
   * Its key in the Secret (default `token`). The runs of one batch share one Secret, a key per
   * run: each pod mounts its own key only, which isolates them as well as a Secret per run
   * would (whoever may create pods in the namespace may mount any of its Secrets either way),
   * at one apiserver write per batch instead of per task.
   */
  secretKey?: string;
}

/** The Secret name of a run credential for the object `name` (a DNS subdomain). */
export function runCredentialSecretName(name: string): string {
  const suffix = '-kubeai-run';
  return `${name.slice(0, 253 - suffix.length).replace(/[-.]+$/, '')}${suffix}`;
}

/** The run's environment variables. */
export function runEnv(identity: RunIdentityInput) {
  return [
    { name: RUN_ENV.runId, value: identity.runId },
    ...(identity.modelRef
      ? [{ name: RUN_ENV.model, value: identity.modelRef }]
      : []),
    { name: RUN_ENV.apiUrl, value: identity.apiUrl },
    { name: RUN_ENV.cluster, value: identity.cluster },
    { name: RUN_ENV.namespace, value: identity.namespace },
    { name: RUN_ENV.tokenFile, value: RUN_CREDENTIAL_FILE },
  ];
}

const RUN_ENV_NAMES = new Set<string>(Object.values(RUN_ENV));

type Json = Record<string, any>;

function addToContainer(container: Json, identity: RunIdentityInput) {
  // the run's values win over anything the user set under the same names
  container.env = [
    ...((container.env as Json[] | undefined) ?? []).filter(
      e => !RUN_ENV_NAMES.has(e.name),
    ),
    ...runEnv(identity),
  ];
  container.volumeMounts = [
    ...((container.volumeMounts as Json[] | undefined) ?? []).filter(
      m => m.name !== VOLUME_NAME,
    ),
    { name: VOLUME_NAME, mountPath: RUN_CREDENTIAL_MOUNT_PATH, readOnly: true },
  ];
}

function addVolume(holder: Json, identity: RunIdentityInput) {
  holder.volumes = [
    ...((holder.volumes as Json[] | undefined) ?? []).filter(
      v => v.name !== VOLUME_NAME,
    ),
    {
      name: VOLUME_NAME,
      secret: {
        secretName: identity.secretName,
        items: [
          { key: identity.secretKey ?? RUN_CREDENTIAL_KEY, path: 'token' },
        ],
      },
    },
  ];
}

function visit(value: unknown, identity: RunIdentityInput): void {
  if (Array.isArray(value)) {
    value.forEach(v => visit(v, identity));
    return;
  }
  if (!value || typeof value !== 'object') return;
  const node = value as Json;
  const labels = node.labels as Record<string, string> | undefined;
  if (labels && labels[KUBEAI_LABELS.managedBy] === KUBEAI_MANAGER) {
    labels[KUBEAI_LABELS.run] = toLabelValue(identity.runId);
  }
  if (Array.isArray(node.containers)) {
    // a pod spec
    (node.containers as Json[]).forEach(c => addToContainer(c, identity));
    addVolume(node, identity);
  } else if (
    node.container &&
    typeof node.container === 'object' &&
    typeof node.name === 'string'
  ) {
    // an Argo container template: volumes beside the container
    addToContainer(node.container as Json, identity);
    addVolume(node, identity);
  }
  for (const [key, child] of Object.entries(node)) {
    if (key !== 'containers' && key !== 'container') visit(child, identity);
  }
}

/** A copy of `objects` carrying the run's label, environment and credential volume. */
export function withRunIdentity<T extends KubeObject | Record<string, unknown>>(
  objects: T[],
  identity: RunIdentityInput,
): T[] {
  return objects.map(object => {
    const copy = structuredClone(object);
    visit(copy, identity);
    return copy;
  });
}

/** How a run-credential Secret names one of its owners (it goes when the last one goes). */
export function ownerReference(
  owner: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>,
) {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name!,
    uid: String(owner.metadata.uid),
    blockOwnerDeletion: false,
  };
}

/**
 * The Secret of run credentials (`tokens`: key → token, one key per run), owned by the runs' main
 * objects (deleted with the last of them) when `owners` are given.
 */
export function runCredentialSecret(options: {
  namespace: string;
  name: string;
  tokens: Record<string, string>;
  /** The runs whose tokens it holds (one: its `kubeai.io/run` label). */
  runIds: string[];
  expiresAt: string;
  owners?: Array<Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>>;
}): KubeObject {
  const owners = (options.owners ?? []).filter(o => o.metadata.uid);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: {
        [KUBEAI_LABELS.managedBy]: KUBEAI_MANAGER,
        ...(options.runIds.length === 1
          ? { [KUBEAI_LABELS.run]: toLabelValue(options.runIds[0]) }
          : {}),
      },
      annotations: { 'kubeai.io/expires-at': options.expiresAt },
      ...(owners.length ? { ownerReferences: owners.map(ownerReference) } : {}),
    },
    type: 'Opaque',
    // `data`, not `stringData`: the portal's server-side apply then owns each key, so a later
    // apply without a key (a run revoked) removes it
    data: Object.fromEntries(
      Object.entries(options.tokens).map(([key, token]) => [
        key,
        Buffer.from(token).toString('base64'),
      ]),
    ),
  } as unknown as KubeObject;
}

/** The Secret name a batch of runs shares (`kubeai-runs-<hash of its run ids>`). */
export function sharedRunCredentialSecretName(runIds: string[]): string {
  return `kubeai-runs-${createHash('sha256')
    .update([...runIds].sort().join(','))
    .digest('hex')
    .slice(0, 16)}`;
}
