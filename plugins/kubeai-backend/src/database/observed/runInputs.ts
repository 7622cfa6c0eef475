/**
 * The dataset inputs of runs the informers create, from what their pod templates mount and say
 * ({@link ObservedInputs}), mapped to what the registry knows — never guessed:
 *
 * - a mounted PVC whose location a dataset version records (`pvc://<cluster>/<namespace>/<claim>`
 *   or `pvc://<namespace>/<claim>`, with the mount's subPath if any) → that version;
 * - a mounted PVC that is a Fluid Dataset (same name) or a PVC the portal created for a Dataset
 *   entity (observed with its `kubeai.io/entity-ref`) → that dataset, at the version whose uri is
 *   the Fluid mount point, else without a version;
 * - env `KUBEAI_DATASET…=dataset:<ns>/<name>[@<version>]` → that dataset (version), when the
 *   registry has it; an env value that is a dataset version's uri → that version — among them
 *   `KUBEAI_INPUT_<NAME>_URI`, the table partition a portal workload reads (`odps://dw.clicks/ds=…`,
 *   registered as a version of the table's dataset when the portal recorded its run).
 *
 * Several versions at one location: the newest registered when the run's object was created (else
 * the first registered). Everything is read with a few queries per batch, whatever its size.
 */
import { touchScopes } from '../changes';
import { Knex } from 'knex';
import { chunks, groupBy } from '../util';
import { bareUri, uriVariants } from './common';
import type { Observation } from './observation';

interface VersionRow {
  dataset_ref: string;
  version: string;
  uri: string;
  created_at: string;
}

interface InputRow {
  run_id: string;
  dataset_ref: string;
  dataset_version: string | null;
}

const ENV_REF =
  /^(?:dataset:)?(?:([a-z0-9][-a-z0-9_.]*)\/)?([a-z0-9][-a-z0-9_.]*)(?:@([a-zA-Z0-9][-_.a-zA-Z0-9]*))?$/i;

/** `dataset:<ns>/<name>[@<version>]` of a dataset env value (lower-case ref), or undefined. */
export function parseDatasetEnv(
  value: string,
): { ref: string; version?: string } | undefined {
  if (value.includes('://')) return undefined;
  const match = ENV_REF.exec(value);
  if (!match) return undefined;
  const ref = `dataset:${match[1] ?? 'default'}/${match[2]}`.toLocaleLowerCase(
    'en-US',
  );
  return match[3] ? { ref, version: match[3] } : { ref };
}

/** The registry uris a mounted claim may be recorded under. */
function claimUris(
  obs: Observation,
  claim: { claimName: string; subPath?: string },
): string[] {
  const tail = claim.subPath ? `/${claim.subPath}` : '';
  return [
    `pvc://${obs.cluster}/${obs.namespace}/${claim.claimName}${tail}`,
    `pvc://${obs.namespace}/${claim.claimName}${tail}`,
  ];
}

/** The version recorded at a location when the run started: see the module comment. */
function pick(rows: VersionRow[], createdAt: string | undefined): VersionRow {
  const sorted = [...rows].sort((a, b) =>
    a.created_at === b.created_at
      ? a.version.localeCompare(b.version)
      : a.created_at.localeCompare(b.created_at),
  );
  const before = createdAt
    ? sorted.filter(r => r.created_at <= createdAt)
    : sorted;
  return before.length ? before[before.length - 1] : sorted[0];
}

async function versionsAt(
  tx: Knex.Transaction,
  uris: string[],
): Promise<Map<string, VersionRow[]>> {
  const byUri = new Map<string, VersionRow[]>();
  const all = [...new Set(uris.flatMap(uriVariants))];
  for (const chunk of chunks(all, 500)) {
    const rows: VersionRow[] = await tx('kubeai_dataset_versions')
      .whereIn('uri', chunk)
      .select('dataset_ref', 'version', 'uri', 'created_at');
    for (const row of rows) {
      const key = bareUri(row.uri);
      const list = byUri.get(key) ?? [];
      list.push(row);
      byUri.set(key, list);
    }
  }
  return byUri;
}

/** Observed Fluid Datasets / portal PVCs of Dataset entities, by `cluster|namespace|name`. */
async function datasetObjects(
  tx: Knex.Transaction,
  items: { obs: Observation }[],
): Promise<Map<string, { ref: string; mountPoints: string[] }>> {
  const out = new Map<string, { ref: string; mountPoints: string[] }>();
  const wanted = items.flatMap(({ obs }) =>
    (obs.inputs?.claims ?? []).map(c => ({ obs, name: c.claimName })),
  );
  for (const group of groupBy(wanted, w => w.obs.cluster).values()) {
    const cluster = group[0].obs.cluster;
    for (const names of chunks([...new Set(group.map(w => w.name))], 500)) {
      const rows: {
        namespace: string;
        name: string;
        kind: string;
        entity_ref: string;
        observed: string;
      }[] = await tx('kubeai_cluster_objects')
        .where({ cluster })
        .whereIn('kind', ['Dataset', 'PersistentVolumeClaim'])
        .whereIn('name', names)
        .where('entity_ref', 'like', 'dataset:%')
        .select('namespace', 'name', 'kind', 'entity_ref', 'observed');
      for (const row of rows) {
        const key = `${cluster}|${row.namespace}|${row.name}`;
        // the Fluid Dataset says where its data comes from; its PVC does not
        if (out.has(key) && row.kind !== 'Dataset') continue;
        let mountPoints: string[] = [];
        try {
          const points = JSON.parse(row.observed)?.details?.mountPoints;
          if (Array.isArray(points)) mountPoints = points.map(String);
        } catch {
          // an unreadable row names no location
        }
        out.set(key, { ref: row.entity_ref, mountPoints });
      }
    }
  }
  return out;
}

/** Registered versions of the datasets env values name, by ref. */
async function versionsOf(
  tx: Knex.Transaction,
  refs: string[],
): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const chunk of chunks([...new Set(refs)], 500)) {
    const rows: { dataset_ref: string; version: string }[] = await tx(
      'kubeai_dataset_versions',
    )
      .whereIn('dataset_ref', chunk)
      .select('dataset_ref', 'version');
    for (const row of rows) {
      const set = out.get(row.dataset_ref) ?? new Set<string>();
      set.add(row.version);
      out.set(row.dataset_ref, set);
    }
  }
  return out;
}

/** Derives and inserts the inputs of new runs (see the module comment). Returns how many. */
export async function insertDerivedInputs(
  tx: Knex.Transaction,
  items: { runId: string; obs: Observation }[],
): Promise<number> {
  const withInputs = items.filter(i => i.obs.inputs);
  if (withInputs.length === 0) return 0;
  const objects = await datasetObjects(tx, withInputs);
  const uris: string[] = [];
  const envRefs: string[] = [];
  for (const { obs } of withInputs) {
    for (const claim of obs.inputs!.claims) uris.push(...claimUris(obs, claim));
    for (const value of obs.inputs!.env) {
      if (value.includes('://')) uris.push(value);
      const parsed = parseDatasetEnv(value);
      if (parsed) envRefs.push(parsed.ref);
    }
  }
  for (const object of objects.values()) uris.push(...object.mountPoints);
  const byUri = await versionsAt(tx, uris);
  const known = await versionsOf(tx, envRefs);
  const at = (uri: string) => byUri.get(bareUri(uri)) ?? [];

  const rows: InputRow[] = [];
  for (const { runId, obs } of withInputs) {
    const found = new Map<string, Set<string | null>>(); // ref → versions
    const add = (ref: string, version: string | null) => {
      const versions = found.get(ref) ?? new Set<string | null>();
      versions.add(version);
      found.set(ref, versions);
    };
    for (const claim of obs.inputs!.claims) {
      const located = claimUris(obs, claim).flatMap(at);
      if (located.length) {
        for (const group of groupBy(located, r => r.dataset_ref).values()) {
          add(group[0].dataset_ref, pick(group, obs.createdAt).version);
        }
        continue;
      }
      const object = objects.get(
        `${obs.cluster}|${obs.namespace}|${claim.claimName}`,
      );
      if (!object) continue; // a volume the registry does not know is no input
      const versions = object.mountPoints
        .flatMap(at)
        .filter(r => r.dataset_ref === object.ref);
      add(
        object.ref,
        versions.length ? pick(versions, obs.createdAt).version : null,
      );
    }
    for (const value of obs.inputs!.env) {
      if (value.includes('://')) {
        for (const group of groupBy(at(value), r => r.dataset_ref).values()) {
          add(group[0].dataset_ref, pick(group, obs.createdAt).version);
        }
        continue;
      }
      const parsed = parseDatasetEnv(value);
      const versions = parsed && known.get(parsed.ref);
      if (!parsed || !versions) continue; // not a dataset the registry has
      if (parsed.version === undefined) add(parsed.ref, null);
      else if (versions.has(parsed.version)) add(parsed.ref, parsed.version);
    }
    for (const [ref, versions] of found) {
      // a versioned input says more than the same dataset without a version
      if (versions.size > 1) versions.delete(null);
      for (const version of versions) {
        rows.push({
          run_id: runId,
          dataset_ref: ref,
          dataset_version: version,
        });
      }
    }
  }
  for (const chunk of chunks(rows, 500)) {
    await tx('kubeai_run_inputs').insert(chunk);
  }
  // a new edge dataset → run: the dataset's lineage answers change (database/changes.ts)
  touchScopes(...new Set(rows.map(r => r.dataset_ref)));
  return rows.length;
}
