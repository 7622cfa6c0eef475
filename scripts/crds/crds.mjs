#!/usr/bin/env node
/*
 * kubeai CRDs: the pinned upstream CustomResourceDefinitions (scripts/crds/sources.json), fetched into a
 * local cache and verified by SHA-256. The jest CRD-schema tests and the local control plane read the cache.
 *
 *   node scripts/crds/crds.mjs fetch [--offline] [--json]   fill the cache (`yarn crds:fetch`); exit 1 with one line when
 *                                                  it cannot; --json prints {dir, files} of the verified cache
 *   node scripts/crds/crds.mjs verify              check the cache only (exit 0 when complete, 1 otherwise)
 *   node scripts/crds/crds.mjs dir                 print the cache directory
 *
 * For every pinned file: already in the cache with the right SHA-256 → kept; else copied from a local mirror
 * folder (same layout: top level + newest/); else downloaded from https://raw.githubusercontent.com/<repo>/<tag>/<path>.
 * Every file is written to a temporary file, verified and only then renamed into place: nothing with a wrong
 * checksum is ever cached (a cached file with a wrong checksum is removed and fetched again).
 *
 * Environment:
 *   KUBEAI_CRDS_CACHE     the cache (default ${XDG_CACHE_HOME:-~/.cache}/kubeai/crds)
 *   KUBEAI_CRDS_DIR       local mirror folder to copy from (machines without internet); default: <repo>/../shared/crds when it exists
 *   KUBEAI_CRDS_URL_BASE  download base instead of https://raw.githubusercontent.com (tests use a local server)
 *   KUBEAI_CRDS_OFFLINE=1 never download (same as --offline)
 *
 * Node 20 ESM, node builtins only.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const SCRIPT_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(SCRIPT_DIR, '..', '..');
export const SOURCES_FILE = path.join(SCRIPT_DIR, 'sources.json');
export const DEFAULT_URL_BASE = 'https://raw.githubusercontent.com';
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;
const PREFIX = 'kubeai crds:';

/** A failure to report as it is (one line per problem, then one summary line). */
export class CrdsError extends Error {
  constructor(message, details = []) {
    super(message);
    this.name = 'CrdsError';
    this.details = details;
  }
}

/**
 * The pinned entries `{ file, repo, tag, commit, path, sha256 }` of a sources file (default
 * scripts/crds/sources.json), checked for shape so a bad edit fails early.
 */
export function loadSources(file = SOURCES_FILE) {
  const entries = JSON.parse(fs.readFileSync(file, 'utf8')).files;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new CrdsError(`${PREFIX} ${file}: no "files" list`);
  }
  const seen = new Set();
  for (const e of entries) {
    const where = `${file}: entry ${JSON.stringify(e?.file)}`;
    if (
      typeof e?.file !== 'string' ||
      !/^(newest\/)?[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml$/.test(e.file)
    ) {
      throw new CrdsError(
        `${PREFIX} ${where}: "file" must be <name>.yaml or newest/<name>.yaml`,
      );
    }
    if (seen.has(e.file))
      throw new CrdsError(`${PREFIX} ${where}: listed twice`);
    seen.add(e.file);
    if (!/^[\w.-]+\/[\w.-]+$/.test(e.repo ?? ''))
      throw new CrdsError(`${PREFIX} ${where}: "repo" must be owner/name`);
    if (typeof e.tag !== 'string' || !e.tag)
      throw new CrdsError(`${PREFIX} ${where}: "tag" missing`);
    if (!/^[0-9a-f]{40}$/.test(e.commit ?? ''))
      throw new CrdsError(`${PREFIX} ${where}: "commit" must be 40 hex digits`);
    if (
      typeof e.path !== 'string' ||
      !e.path ||
      e.path.startsWith('/') ||
      e.path.split('/').includes('..')
    )
      throw new CrdsError(`${PREFIX} ${where}: "path" must be relative`);
    if (!/^[0-9a-f]{64}$/.test(e.sha256 ?? ''))
      throw new CrdsError(`${PREFIX} ${where}: "sha256" must be 64 hex digits`);
  }
  return entries;
}

/** Top-level entries (what a 1.20 apiserver accepts; the local control plane installs these). */
export const isTopLevel = entry => !entry.file.includes('/');

/** The cache directory: KUBEAI_CRDS_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/kubeai/crds. */
export function cacheDir(env = process.env) {
  if (env.KUBEAI_CRDS_CACHE) return path.resolve(env.KUBEAI_CRDS_CACHE);
  const base = env.XDG_CACHE_HOME
    ? path.resolve(env.XDG_CACHE_HOME)
    : path.join(os.homedir(), '.cache');
  return path.join(base, 'kubeai', 'crds');
}

/**
 * The local mirror to copy from, `{ dir, exists, explicit }`: KUBEAI_CRDS_DIR when set,
 * else the shared folder beside the repository when it exists (KUBEAI_CRDS_DIR default), else undefined.
 */
export function mirrorDir(env = process.env, repoRoot = REPO_ROOT) {
  if (env.KUBEAI_CRDS_DIR) {
    const dir = path.resolve(env.KUBEAI_CRDS_DIR);
    return { dir, exists: isDir(dir), explicit: true };
  }
  const beside = path.resolve(repoRoot, '..', 'shared', 'crds'); // default mirror when KUBEAI_CRDS_DIR is unset
  return isDir(beside)
    ? { dir: beside, exists: true, explicit: false }
    : undefined;
}

/** https://raw.githubusercontent.com/<repo>/<tag>/<path> (or under another base). */
export function sourceUrl(entry, urlBase = DEFAULT_URL_BASE) {
  const enc = s => s.split('/').map(encodeURIComponent).join('/');
  return `${urlBase.replace(/\/+$/, '')}/${entry.repo}/${enc(entry.tag)}/${enc(
    entry.path,
  )}`;
}

function isDir(dir) {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** SHA-256 (hex) of a file, or undefined when it is not there. */
export function sha256File(file) {
  let data;
  try {
    data = fs.readFileSync(file);
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'EISDIR') return undefined;
    throw e;
  }
  return crypto.createHash('sha256').update(data).digest('hex');
}

/**
 * Which entries the cache holds with the right checksum (synchronous, never writes):
 * `{ ok, missing, bad }`, each a list of entries (`bad`: present with another SHA-256).
 */
export function checkCache({
  cache = cacheDir(),
  entries = loadSources(),
} = {}) {
  const result = { ok: [], missing: [], bad: [] };
  for (const entry of entries) {
    const actual = sha256File(path.join(cache, entry.file));
    if (actual === undefined) result.missing.push(entry);
    else if (actual === entry.sha256) result.ok.push(entry);
    else result.bad.push(entry);
  }
  return result;
}

const mismatch = (entry, actual, source) =>
  `${PREFIX} checksum mismatch for ${entry.file} from ${source}: expected sha256 ${entry.sha256}, got ${actual}; not cached`;

function tempFileFor(dest) {
  return `${dest}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

/** Moves a verified temp file into place, or removes it and throws the checksum error. */
function landVerified(tmp, dest, entry, actual, source) {
  if (actual !== entry.sha256) {
    fs.rmSync(tmp, { force: true });
    throw new CrdsError(mismatch(entry, actual, source));
  }
  fs.renameSync(tmp, dest);
}

/** Copies a mirror file into the cache through a verified temp file. Returns false when the mirror lacks it. */
function copyFromMirror(entry, mirror, cache) {
  const src = path.join(mirror, entry.file);
  if (!fs.existsSync(src)) return false;
  const dest = path.join(cache, entry.file);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = tempFileFor(dest);
  try {
    fs.copyFileSync(src, tmp);
    landVerified(tmp, dest, entry, sha256File(tmp), src);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  return true;
}

/** GET with redirects and a timeout; resolves with the response stream (status 200 only). */
function get(url, timeoutMs, redirects = MAX_REDIRECTS) {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { timeout: timeoutMs }, res => {
      const { statusCode = 0, headers } = res;
      if (statusCode >= 300 && statusCode < 400 && headers.location) {
        res.resume();
        if (redirects <= 0) {
          reject(new Error(`too many redirects at ${url}`));
          return;
        }
        resolve(
          get(
            new URL(headers.location, url).toString(),
            timeoutMs,
            redirects - 1,
          ),
        );
        return;
      }
      if (statusCode !== 200) {
        res.resume();
        const err = new Error(`HTTP ${statusCode} for ${url}`);
        err.httpStatus = statusCode;
        reject(err);
        return;
      }
      res.setTimeout(timeoutMs, () =>
        res.destroy(
          new Error(`timed out after ${timeoutMs} ms reading ${url}`),
        ),
      );
      resolve(res);
    });
    req.on('timeout', () =>
      req.destroy(
        new Error(`timed out after ${timeoutMs} ms connecting to ${url}`),
      ),
    );
    req.on('error', reject);
  });
}

/** Downloads into the cache through a verified temp file. */
async function download(entry, cache, urlBase, timeoutMs) {
  const url = sourceUrl(entry, urlBase);
  const dest = path.join(cache, entry.file);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = tempFileFor(dest);
  try {
    const res = await get(url, timeoutMs);
    const hash = crypto.createHash('sha256');
    res.on('data', chunk => hash.update(chunk));
    await pipeline(res, fs.createWriteStream(tmp));
    landVerified(tmp, dest, entry, hash.digest('hex'), url);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

async function mapLimit(items, limit, fn) {
  let next = 0;
  const workers = Array.from(
    { length: Math.min(limit, items.length) },
    async () => {
      while (next < items.length) {
        const item = items[next++];
        await fn(item);
      }
    },
  );
  await Promise.all(workers);
}

const describeNetError = e =>
  e.code ? `${e.code}${e.hostname ? ` ${e.hostname}` : ''}` : e.message;

/**
 * Fills the cache. Options (all optional, defaults from the environment):
 *   entries   pinned entries (default: scripts/crds/sources.json)
 *   cache     cache directory (KUBEAI_CRDS_CACHE / XDG default)
 *   mirror    local mirror folder; `null` = none (default: KUBEAI_CRDS_DIR, else <repo>/../shared/crds if present)
 *   urlBase   download base (KUBEAI_CRDS_URL_BASE / https://raw.githubusercontent.com)
 *   offline   never download (KUBEAI_CRDS_OFFLINE=1)
 *   timeoutMs per-request connect / idle timeout
 *   log       progress lines (default: none)
 * Resolves with `{ cache, kept, copied, downloaded, replaced }` (lists of file names). Rejects with a
 * CrdsError whose message is one line saying what to do, and whose `details` are the checksum (and HTTP)
 * errors to show above it.
 */
export async function fetchCrds(options = {}) {
  const env = options.env ?? process.env;
  const entries = options.entries ?? loadSources();
  const cache = options.cache ?? cacheDir(env);
  const mirrorInfo =
    options.mirror === undefined
      ? mirrorDir(env)
      : options.mirror === null
      ? undefined
      : {
          dir: path.resolve(options.mirror),
          exists: isDir(options.mirror),
          explicit: true,
        };
  const urlBase =
    options.urlBase ?? env.KUBEAI_CRDS_URL_BASE ?? DEFAULT_URL_BASE;
  const offline =
    options.offline ?? ['1', 'true'].includes(env.KUBEAI_CRDS_OFFLINE ?? '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const log = options.log ?? (() => {});

  const result = { cache, kept: [], copied: [], downloaded: [], replaced: [] };
  const details = []; // lines shown above the summary: checksum mismatches, HTTP errors
  let refused = 0; // files whose bytes had a wrong SHA-256
  const toDownload = [];
  for (const entry of entries) {
    const dest = path.join(cache, entry.file);
    const cached = sha256File(dest);
    if (cached === entry.sha256) {
      result.kept.push(entry.file);
      continue;
    }
    if (cached !== undefined) {
      log(
        `${PREFIX} cached ${entry.file} has sha256 ${cached}, expected ${entry.sha256}; replacing it`,
      );
      fs.rmSync(dest, { force: true });
      result.replaced.push(entry.file);
    }
    if (mirrorInfo?.exists) {
      try {
        if (copyFromMirror(entry, mirrorInfo.dir, cache)) {
          result.copied.push(entry.file);
          continue;
        }
      } catch (e) {
        if (!(e instanceof CrdsError)) throw e;
        details.push(e.message);
        refused++;
        continue; // a wrong mirror file is an error to fix, not something to paper over by downloading
      }
    }
    toDownload.push(entry);
  }

  const unavailable = [];
  let networkDown; // after the first connection-level failure, the remaining downloads are not tried
  if (toDownload.length && !offline) {
    await mapLimit(toDownload, 4, async entry => {
      if (networkDown) {
        unavailable.push(entry);
        return;
      }
      try {
        await download(entry, cache, urlBase, timeoutMs);
        result.downloaded.push(entry.file);
      } catch (e) {
        if (e instanceof CrdsError) {
          details.push(e.message);
          refused++;
          return;
        }
        unavailable.push(entry);
        if (e.httpStatus) {
          details.push(`${PREFIX} ${entry.file}: ${e.message}`);
        } else {
          networkDown ??= describeNetError(e);
        }
      }
    });
  } else {
    unavailable.push(...toDownload);
  }

  if (refused === 0 && unavailable.length === 0) return result;

  const why = [];
  if (!mirrorInfo) {
    why.push(
      'no local copy: KUBEAI_CRDS_DIR is unset and <repo>/../shared/crds does not exist',
    );
  } else if (!mirrorInfo.exists) {
    why.push(`no local copy: KUBEAI_CRDS_DIR=${mirrorInfo.dir} does not exist`);
  } else if (unavailable.length) {
    why.push(`not in ${mirrorInfo.dir}`);
  }
  if (unavailable.length) {
    why.push(
      offline
        ? 'downloads disabled (offline)'
        : `download from ${new URL(urlBase).host} failed${
            networkDown ? `: ${networkDown}` : ''
          }`,
    );
  }
  const wrong = refused
    ? `${refused} CRD file${
        refused === 1 ? '' : 's'
      } refused for a wrong SHA-256 (see above)`
    : '';
  const missing = unavailable.length
    ? `${unavailable.length} CRD file${
        unavailable.length === 1 ? '' : 's'
      } missing and not ${offline ? 'copyable' : 'downloadable'}`
    : '';
  const head = [missing, wrong].filter(Boolean).join(', ');
  throw new CrdsError(
    `${PREFIX} ${head}${why.length ? ` (${why.join('; ')})` : ''}; ` +
      `set KUBEAI_CRDS_DIR=/path/to/crds (a folder with the pinned files) or run 'yarn crds:fetch' with internet access ` +
      `(cache: ${cache})`,
    details,
  );
}

async function main(argv) {
  const [command = 'help', ...rest] = argv;
  const offline = rest.includes('--offline') ? true : undefined;
  switch (command) {
    case 'dir':
      console.log(cacheDir());
      return 0;
    case 'verify': {
      const cache = cacheDir();
      const { ok, missing, bad } = checkCache({ cache });
      if (!missing.length && !bad.length) {
        console.log(
          `${PREFIX} all ${ok.length} pinned CRD files verified in ${cache}`,
        );
        return 0;
      }
      for (const e of bad)
        console.error(`${PREFIX} ${e.file}: wrong checksum in the cache`);
      console.error(
        `${PREFIX} ${missing.length + bad.length} of ${
          ok.length + missing.length + bad.length
        } pinned CRD files missing or wrong in ${cache}; run 'yarn crds:fetch' (set KUBEAI_CRDS_DIR=/path/to/crds without internet access)`,
      );
      return 1;
    }
    case 'fetch': {
      const r = await fetchCrds({ offline, log: line => console.error(line) });
      if (rest.includes('--json')) {
        // For programs (the jest CRD-schema helper): the verified cache and its pinned files.
        const files = loadSources().map(e => e.file);
        console.log(JSON.stringify({ dir: r.cache, files }));
        return 0;
      }
      const parts = [`${r.kept.length} already cached`];
      if (r.copied.length)
        parts.push(`${r.copied.length} copied from ${mirrorDir()?.dir}`);
      if (r.downloaded.length) parts.push(`${r.downloaded.length} downloaded`);
      console.log(
        `${PREFIX} ${
          r.kept.length + r.copied.length + r.downloaded.length
        } pinned CRD files verified in ${r.cache} (${parts.join(', ')})`,
      );
      return 0;
    }
    default:
      console.log(
        'usage: node scripts/crds/crds.mjs fetch [--offline] | verify | dir   (see the comment at the top of this file)',
      );
      return command === 'help' || command === '--help' ? 0 : 2;
  }
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  main(process.argv.slice(2)).then(
    code => process.exit(code),
    e => {
      if (e instanceof CrdsError) {
        for (const line of e.details) console.error(line);
        console.error(e.message);
      } else {
        console.error(
          `${PREFIX} ${process.env.KUBEAI_DEBUG ? e.stack : e.message}`,
        );
      }
      process.exit(1);
    },
  );
}
