/**
 * What the pod templates of a run may read, from the object alone: the PVCs its volumes claim
 * (with the subPath each is mounted at) and the env values that name datasets or locations. The
 * observed store maps them to registered datasets when it creates the run
 * (src/database/observed/runInputs.ts); anything it cannot map is not an input.
 */
import type { ObservedInputs } from '../database/observed/observation';

/** Env vars whose values name datasets (`dataset:<ns>/<name>[@<version>]`, comma separated). */
export const DATASET_ENV = /^KUBEAI_DATASETS?(_[A-Z0-9_]+)?$/;
/**
 * The uri of a table a portal workload reads (`KUBEAI_INPUT_<NAME>_URI=odps://proj.table/ds=…`,
 * manifests/tableInputs.ts): a location, kept ahead of other env values so that the bound below
 * never drops it.
 */
export const TABLE_URI_ENV = /^KUBEAI_INPUT_[A-Z0-9_]+_URI$/;
/** A location (`s3://…`, `pvc://…`): matched against the uris of registered dataset versions. */
const LOCATION = /^[a-zA-Z][-+.a-zA-Z0-9]*:\/\/\S+$/;
/** Bounds, so that an odd object cannot make a batch's lookups large. */
const MAX_VALUES = 32;
const MAX_VALUE_LENGTH = 2048;
const MAX_DEPTH = 12;

interface Collected {
  claimsByVolume: Map<string, string>;
  mounts: { volume: string; subPath?: string }[];
  env: Set<string>;
  tableUris: Set<string>;
}

function collectContainer(container: any, out: Collected) {
  if (!container || typeof container !== 'object') return;
  for (const mount of Array.isArray(container.volumeMounts)
    ? container.volumeMounts
    : []) {
    if (typeof mount?.name === 'string') {
      out.mounts.push({
        volume: mount.name,
        ...(typeof mount.subPath === 'string' && mount.subPath
          ? { subPath: mount.subPath.replace(/^\/+|\/+$/g, '') }
          : {}),
      });
    }
  }
  for (const env of Array.isArray(container.env) ? container.env : []) {
    const value = env?.value;
    if (typeof value !== 'string' || value.length > MAX_VALUE_LENGTH) continue;
    if (
      typeof env.name === 'string' &&
      TABLE_URI_ENV.test(env.name) &&
      LOCATION.test(value)
    ) {
      out.tableUris.add(value);
    } else if (typeof env.name === 'string' && DATASET_ENV.test(env.name)) {
      for (const part of value.split(/[,\s]+/)) if (part) out.env.add(part);
    } else if (LOCATION.test(value)) {
      out.env.add(value);
    }
  }
}

/** Pod specs sit at different depths per kind (Job, replica specs, Argo templates): walk `spec`. */
function walk(node: unknown, depth: number, out: Collected) {
  if (!node || typeof node !== 'object' || depth > MAX_DEPTH) return;
  if (Array.isArray(node)) {
    for (const item of node) walk(item, depth + 1, out);
    return;
  }
  const record = node as Record<string, any>;
  if (Array.isArray(record.volumes)) {
    for (const volume of record.volumes) {
      const claim = volume?.persistentVolumeClaim?.claimName;
      if (typeof volume?.name === 'string' && typeof claim === 'string') {
        out.claimsByVolume.set(volume.name, claim);
      }
    }
  }
  for (const key of ['containers', 'initContainers']) {
    if (Array.isArray(record[key])) {
      for (const container of record[key]) collectContainer(container, out);
    }
  }
  // Argo templates: one container or script each
  for (const key of ['container', 'script']) {
    if (record[key] && typeof record[key] === 'object') {
      collectContainer(record[key], out);
    }
  }
  for (const [key, value] of Object.entries(record)) {
    if (key === 'env' || key === 'volumeMounts' || key === 'status') continue;
    if (value && typeof value === 'object') walk(value, depth + 1, out);
  }
}

/** The {@link ObservedInputs} of a run object, or undefined when it mounts and names nothing. */
export function podInputs(object: object): ObservedInputs | undefined {
  const out: Collected = {
    claimsByVolume: new Map(),
    mounts: [],
    env: new Set(),
    tableUris: new Set(),
  };
  walk((object as { spec?: unknown }).spec, 0, out);
  const claims = new Map<string, { claimName: string; subPath?: string }>();
  const mounted = new Set<string>();
  for (const mount of out.mounts) {
    const claimName = out.claimsByVolume.get(mount.volume);
    if (!claimName) continue;
    mounted.add(mount.volume);
    claims.set(`${claimName}/${mount.subPath ?? ''}`, {
      claimName,
      ...(mount.subPath ? { subPath: mount.subPath } : {}),
    });
  }
  // a claimed volume no container mounts (yet) still says what the pod attaches
  for (const [volume, claimName] of out.claimsByVolume) {
    if (!mounted.has(volume)) claims.set(`${claimName}/`, { claimName });
  }
  const result: ObservedInputs = {
    claims: [...claims.values()].slice(0, MAX_VALUES),
    env: [...new Set([...out.tableUris, ...out.env])].slice(0, MAX_VALUES),
  };
  return result.claims.length || result.env.length ? result : undefined;
}
