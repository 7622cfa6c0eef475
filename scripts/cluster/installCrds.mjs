// Installs the CRDs into the running apiserver: the files from resolveCrdFiles (the pinned upstream
// CRDs of the verified cache, scripts/crds/crds.mjs, or the minimal ones in scripts/cluster/crds),
// skipping those whose source hash is already installed, then waits until all are Established.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import {
  cacheDir,
  checkCache,
  fetchCrds,
  isTopLevel,
  loadSources,
} from '../crds/crds.mjs';
import { apiMessage, createOrReplace, kube } from './kubeApi.mjs';
import { REPO_ROOT } from './state.mjs';
import { ClusterError, mapLimit, progress, sleep } from './util.mjs';

const SCRIPT_DIR = path.dirname(fileURLToPath(import.meta.url));
export const FALLBACK_CRDS_DIR = path.join(SCRIPT_DIR, 'crds');

export const CRD_COLLECTION =
  '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
/** sha256 of the CRD as read from its file; lets a re-run skip CRDs that are already up to date. */
export const CRD_HASH_ANNOTATION = 'kubeai.local/source-sha256';
export const ESTABLISHED_TIMEOUT_MS = 60_000;

export function listYaml(dir) {
  try {
    if (!fs.statSync(dir).isDirectory()) return [];
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter(e => e.isFile() && /\.ya?ml$/.test(e.name))
      .map(e => path.join(dir, e.name))
      .sort();
  } catch {
    return [];
  }
}

/**
 * The project's own CRDs: the files of scripts/cluster/crds that no top-level pinned file stands for (Kueue's
 * Workload, whose upstream CRD a 1.20 apiserver refuses; it is pinned under newest/ for the schema tests only).
 * They are installed with either set.
 */
export function ownCrdFiles(pinned = loadSources().filter(isTopLevel)) {
  const upstream = new Set(pinned.map(e => e.file));
  return listYaml(FALLBACK_CRDS_DIR).filter(
    f => !upstream.has(path.basename(f)),
  );
}

/**
 * The CRD files to install: the top-level set of the pinned upstream CRDs (scripts/crds/sources.json) from the
 * verified CRD cache when every one is there with its SHA-256 (an incomplete cache is first filled from a local copy,
 * KUBEAI_CRDS_DIR, by `crds.mjs fetch --offline`); else the project's minimal CRDs in scripts/cluster/crds.
 * Either way with the project's own CRDs ({@link ownCrdFiles}). Cache location and checks follow scripts/crds/crds.mjs.
 */
export async function resolveCrdFiles() {
  const cache = cacheDir();
  const pinned = loadSources().filter(isTopLevel);
  let { missing, bad } = checkCache({ cache, entries: pinned });
  if (missing.length + bad.length) {
    // Copies from a local copy of the pinned files when there is one; never downloads here.
    await fetchCrds({ cache, entries: pinned, offline: true }).catch(() => {});
    ({ missing, bad } = checkCache({ cache, entries: pinned }));
  }
  const unverified = missing.length + bad.length;
  if (!unverified) {
    progress(
      `installing the ${pinned.length} pinned upstream CRDs from the verified cache ${cache}`,
    );
    return {
      dir: cache,
      files: [
        ...pinned.map(e => path.join(cache, e.file)).sort(),
        ...ownCrdFiles(pinned),
      ],
      fallback: false,
    };
  }
  return {
    dir: FALLBACK_CRDS_DIR,
    files: listYaml(FALLBACK_CRDS_DIR),
    fallback: true,
    requested: `the CRD cache ${cache} (${unverified} of ${pinned.length} pinned top-level files missing or changed; run 'yarn crds:fetch', or set KUBEAI_CRDS_DIR=/path/to/crds without internet access)`,
  };
}

export function readCrds(files) {
  const crds = [];
  for (const file of files) {
    let docs;
    try {
      docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ClusterError(`cannot read ${file}: ${e.message}`);
    }
    if (!Array.isArray(docs)) docs = [docs];
    for (const doc of docs) {
      if (doc.errors?.length)
        throw new ClusterError(
          `cannot parse ${file}: ${doc.errors[0].message.split('\n')[0]}`,
        );
      const obj = doc.toJS({ maxAliasCount: -1 });
      if (obj == null) continue;
      if (
        obj.kind !== 'CustomResourceDefinition' ||
        !/^apiextensions\.k8s\.io\//.test(obj.apiVersion ?? '')
      ) {
        progress(
          `skipping ${obj.kind ?? 'a document'} in ${path.basename(
            file,
          )} (not a CustomResourceDefinition)`,
        );
        continue;
      }
      crds.push({ file, obj });
    }
  }
  return crds;
}

export async function waitEstablished(state, names) {
  const pending = new Set(names);
  const deadline = Date.now() + ESTABLISHED_TIMEOUT_MS;
  for (;;) {
    const res = await kube(state, 'GET', CRD_COLLECTION);
    if (res.status !== 200)
      throw new ClusterError(
        `cannot list CRDs: HTTP ${res.status}: ${apiMessage(res)}`,
      );
    const byName = new Map(
      (res.body.items ?? []).map(c => [c.metadata.name, c]),
    );
    for (const name of [...pending]) {
      const conds = byName.get(name)?.status?.conditions ?? [];
      if (conds.some(c => c.type === 'Established' && c.status === 'True'))
        pending.delete(name);
    }
    if (!pending.size) return;
    if (Date.now() > deadline) {
      const name = [...pending][0];
      const conds = byName.get(name)?.status?.conditions ?? [];
      const why = conds
        .filter(c => c.status !== 'True')
        .map(c => `${c.type}: ${c.message}`)
        .join('; ');
      throw new ClusterError(
        `CRD ${name} did not become Established within ${
          ESTABLISHED_TIMEOUT_MS / 1000
        }s${why ? ` (${why})` : ''}`,
      );
    }
    await sleep(200);
  }
}

/** name → value of the source-hash annotation, for all installed CRDs (metadata only). */
export async function installedCrdHashes(state) {
  const res = await kube(state, 'GET', CRD_COLLECTION, null, {
    accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
  });
  if (res.status !== 200)
    throw new ClusterError(
      `cannot list CRDs: HTTP ${res.status}: ${apiMessage(res)}`,
    );
  return new Map(
    (res.body.items ?? []).map(m => [
      m.metadata.name,
      m.metadata.annotations?.[CRD_HASH_ANNOTATION],
    ]),
  );
}

/**
 * The CRD to send for a definition read from a file: without status, creationTimestamp and
 * resourceVersion, annotated with the sha256 of that (`hash`), which lets a re-run skip it.
 */
export function prepareCrd(obj) {
  const { status: _status, ...crd } = obj;
  crd.metadata = { ...crd.metadata };
  delete crd.metadata.creationTimestamp;
  delete crd.metadata.resourceVersion;
  const hash = crypto
    .createHash('sha256')
    .update(JSON.stringify(crd))
    .digest('hex');
  crd.metadata.annotations = {
    ...crd.metadata.annotations,
    [CRD_HASH_ANNOTATION]: hash,
  };
  return { crd, hash };
}

export async function ensureCrds(state) {
  const { dir, files, fallback, requested } = await resolveCrdFiles();
  if (fallback) {
    progress(
      `no CRDs in ${requested}; installing the minimal fallback CRDs from ${path.relative(
        REPO_ROOT,
        dir,
      )}`,
    );
  }
  const crds = readCrds(files);
  const installed = await installedCrdHashes(state);
  const counts = { created: 0, updated: 0, kept: 0, unchanged: 0 };
  // A few at a time: each create makes the apiserver rebuild its OpenAPI document.
  await mapLimit(crds, 3, async ({ file, obj }) => {
    const { crd, hash } = prepareCrd(obj);
    if (installed.get(crd.metadata.name) === hash) {
      counts.unchanged++;
      return;
    }
    try {
      counts[await createOrReplace(state, CRD_COLLECTION, crd)]++;
    } catch (e) {
      if (e instanceof ClusterError && e.status === 422) {
        // Present but not updatable to this definition (e.g. a stored version would be dropped): keep it.
        progress(
          `warning: kept the existing CRD ${crd.metadata.name}: ${e.message}`,
        );
        counts.kept++;
      } else {
        throw new ClusterError(`${e.message} (from ${path.basename(file)})`);
      }
    }
  });
  await waitEstablished(
    state,
    crds.map(c => c.obj.metadata.name),
  );
  state.crdsDir = dir;
  state.crds = crds.map(c => c.obj.metadata.name);
  return { dir, fallback, count: crds.length, ...counts };
}
