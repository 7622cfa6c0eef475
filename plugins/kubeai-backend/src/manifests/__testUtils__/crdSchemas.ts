/**
 * Test helper: validates built objects against the pinned upstream CRD schemas
 * (`scripts/crds/sources.json`), read from the verified CRD cache that `yarn crds:fetch` fills
 * (`KUBEAI_CRDS_CACHE`, else `${XDG_CACHE_HOME:-~/.cache}/kubeai/crds`): the top level (what the
 * local 1.20 cluster runs) and `newest/` (newest upstream releases).
 *
 * Validation follows the apiserver's structural-schema rules as far as JSON Schema can:
 * ajv 8 (draft-07, `strict: false`) plus the `x-kubernetes-*` keywords
 * (`int-or-string`, `list-type: map|set` uniqueness; `preserve-unknown-fields` / `embedded-resource`
 * accepted) and the OpenAPI formats `int32`, `int64`, `float`, `double`, `byte`, `date-time`.
 * CEL rules (`x-kubernetes-validations`) are not evaluated. Because the apiserver silently prunes
 * unknown fields instead of rejecting them, {@link prunedFields} lists fields a schema does not
 * know, so tests can insist there are none.
 *
 * Incomplete cache → the helper first copies the pinned files from a local mirror
 * (`KUBEAI_CRDS_DIR`, else the shared folder beside the repository) with `crds.mjs fetch --offline`
 * (never downloads); when that cannot complete it, an Error saying to run `yarn crds:fetch`
 * (tests fail, never skip).
 */
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import Ajv, { type ValidateFunction } from 'ajv';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/** Which CRD set: the top level (installable on 1.20) or `newest/`. */
export type CrdSet = 'top' | 'newest';

interface Crd {
  file: string;
  group: string;
  kind: string;
  versions: Array<{ name: string; schema?: { openAPIV3Schema?: JsonSchema } }>;
}

type JsonSchema = Record<string, any>;

function findRepoRoot(start: string): string | undefined {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).workspaces) {
          return dir;
        }
      } catch {
        // keep looking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      return undefined;
    }
    dir = parent;
  }
}

/** Verified caches of this process: cache dir (or '' for the environment's) → the answer. */
const verifiedCaches = new Map<string, { dir: string; files: string[] }>();

/**
 * The verified CRD cache holding every pinned file (`scripts/crds/sources.json`, top level and
 * `newest/`) with its SHA-256, as `node scripts/crds/crds.mjs fetch --offline --json` answers it (the
 * one implementation of the cache and its checks): files missing or wrong are copied from a local
 * mirror (`KUBEAI_CRDS_DIR`, else the shared folder beside the repository), never downloaded; when the
 * cache is still incomplete it throws with the script's one line (run `yarn crds:fetch` or set
 * `KUBEAI_CRDS_DIR`). Options (tests): `cache` instead of the environment's cache, `env` instead of
 * `process.env`, `searchFrom` to find the repository from.
 */
export function crdsDir(
  options: {
    cache?: string;
    env?: NodeJS.ProcessEnv;
    searchFrom?: string;
  } = {},
): string {
  return verifiedCrdCache(options).dir;
}

function verifiedCrdCache(
  options: {
    cache?: string;
    env?: NodeJS.ProcessEnv;
    searchFrom?: string;
  } = {},
): { dir: string; files: string[] } {
  const env = options.env ?? process.env;
  const searchFrom =
    options.searchFrom ?? resolvePackagePath('@kubeai/plugin-kubeai-backend');
  const root = findRepoRoot(searchFrom);
  const script = root ? path.join(root, 'scripts', 'crds', 'crds.mjs') : '';
  if (!root || !fs.existsSync(script)) {
    throw new Error(
      `CRD schemas not found: no repository with scripts/crds/crds.mjs above ${searchFrom}.`,
    );
  }
  const key = options.cache ?? '';
  const known = verifiedCaches.get(key);
  if (known) {
    return known;
  }
  // No network from the tests: copy from a local mirror only.
  const fetched = spawnSync(
    process.execPath,
    [script, 'fetch', '--offline', '--json'],
    {
      env: options.cache ? { ...env, KUBEAI_CRDS_CACHE: options.cache } : env,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  if (fetched.status !== 0) {
    // The script's lines: what it replaced or refused, then the one line saying what to do.
    const said =
      `${fetched.stderr ?? ''}`.trim().split('\n').join(' ') ||
      fetched.error?.message ||
      `exit ${fetched.status}`;
    throw new Error(`CRD schemas not found: ${said}`);
  }
  const answer: { dir: string; files: string[] } = JSON.parse(fetched.stdout);
  verifiedCaches.set(key, answer);
  return answer;
}

const crdCache = new Map<CrdSet, Crd[]>();

/** All CRDs of a set. */
export function loadCrds(set: CrdSet): Crd[] {
  const cached = crdCache.get(set);
  if (cached) {
    return cached;
  }
  const cache = verifiedCrdCache();
  const dir = set === 'top' ? cache.dir : path.join(cache.dir, 'newest');
  const crds: Crd[] = [];
  for (const file of cache.files
    .filter(f => (set === 'top' ? !f.includes('/') : f.startsWith('newest/')))
    .sort()) {
    const doc = YAML.parse(fs.readFileSync(path.join(cache.dir, file), 'utf8'));
    if (doc?.kind !== 'CustomResourceDefinition') {
      continue;
    }
    crds.push({
      file: path.join(cache.dir, file),
      group: doc.spec.group,
      kind: doc.spec.names.kind,
      versions: doc.spec.versions,
    });
  }
  if (crds.length === 0) {
    throw new Error(`no CustomResourceDefinition YAML files in ${dir}`);
  }
  crdCache.set(set, crds);
  return crds;
}

/** The CRD of `apiVersion` + `kind` in a set, if it has it. */
export function findCrd(
  apiVersion: string,
  kind: string,
  set: CrdSet,
): Crd | undefined {
  const [group] = apiVersion.split('/');
  return loadCrds(set).find(c => c.kind === kind && c.group === group);
}

/** The `openAPIV3Schema` of `apiVersion` + `kind` in a set, if the set has that version. */
export function crdSchema(
  apiVersion: string,
  kind: string,
  set: CrdSet,
): JsonSchema | undefined {
  const crd = findCrd(apiVersion, kind, set);
  const version = apiVersion.split('/')[1];
  return crd?.versions.find(v => v.name === version)?.schema?.openAPIV3Schema;
}

function makeAjv(): Ajv {
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    validateSchema: false,
  });
  const isInt = (v: number) => Number.isInteger(v);
  ajv.addFormat('int32', {
    type: 'number',
    validate: v => isInt(v) && v >= -2147483648 && v <= 2147483647,
  });
  ajv.addFormat('int64', { type: 'number', validate: v => isInt(v) });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addFormat(
    'date-time',
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i,
  );
  for (const keyword of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-embedded-resource',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-validations',
  ]) {
    ajv.addKeyword({ keyword });
  }
  ajv.addKeyword({
    keyword: 'x-kubernetes-int-or-string',
    schemaType: 'boolean',
    errors: false,
    validate: (enabled: boolean, data: unknown) =>
      !enabled ||
      typeof data === 'string' ||
      (typeof data === 'number' && Number.isInteger(data)),
  });
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-type',
    schemaType: 'string',
    errors: false,
    validate: function listType(
      this: unknown,
      type: string,
      data: unknown,
      parentSchema?: any,
    ) {
      if (!Array.isArray(data) || (type !== 'map' && type !== 'set')) {
        return true;
      }
      const keys: string[] | undefined =
        parentSchema?.['x-kubernetes-list-map-keys'];
      const identities = data.map(item =>
        type === 'map' && keys
          ? JSON.stringify(keys.map(k => (item as any)?.[k]))
          : JSON.stringify(item),
      );
      return new Set(identities).size === identities.length;
    },
  });
  return ajv;
}

let ajvInstance: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

/** Result of {@link validateAgainstCrd}. */
export interface CrdValidation {
  /** The CRD file the schema came from. */
  file: string;
  valid: boolean;
  /** ajv errors as `<path> <message>` lines. */
  errors: string[];
  /** Fields the apiserver would prune (not in the schema). */
  pruned: string[];
}

/**
 * Validates `object` against the CRD schema of its apiVersion + kind in `set`. Throws when the set
 * has no CRD of that kind and version (callers decide which sets must have it).
 */
export function validateAgainstCrd(
  object: { apiVersion: string; kind: string },
  set: CrdSet,
): CrdValidation {
  const crd = findCrd(object.apiVersion, object.kind, set);
  const schema = crdSchema(object.apiVersion, object.kind, set);
  if (!crd || !schema) {
    throw new Error(
      `no CRD for ${object.apiVersion} ${
        object.kind
      } in the ${set} set of ${crdsDir()}`,
    );
  }
  const key = `${set}:${object.apiVersion}:${object.kind}`;
  let validate = validators.get(key);
  if (!validate) {
    ajvInstance ??= makeAjv();
    validate = ajvInstance.compile(schema);
    validators.set(key, validate);
  }
  const valid = validate(object) as boolean;
  return {
    file: crd.file,
    valid,
    errors: (validate.errors ?? []).map(
      e =>
        `${e.instancePath || '/'} ${e.message ?? e.keyword}${
          e.params ? ` ${JSON.stringify(e.params)}` : ''
        }`,
    ),
    pruned: prunedFields(schema, object),
  };
}

/** Paths of fields in `value` that `schema` does not declare (what the apiserver prunes). */
export function prunedFields(
  schema: JsonSchema,
  value: unknown,
  at = '',
): string[] {
  if (!schema || schema['x-kubernetes-preserve-unknown-fields'] === true) {
    return [];
  }
  if (Array.isArray(value)) {
    return schema.items
      ? value.flatMap((v, i) => prunedFields(schema.items, v, `${at}[${i}]`))
      : [];
  }
  if (!value || typeof value !== 'object') {
    return [];
  }
  if (at === '/metadata') {
    return []; // the apiserver validates object metadata itself
  }
  const out: string[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const childSchema =
      schema.properties?.[key] ??
      (typeof schema.additionalProperties === 'object'
        ? schema.additionalProperties
        : undefined);
    if (!childSchema) {
      const envelope =
        (at === '' || schema['x-kubernetes-embedded-resource'] === true) &&
        ['apiVersion', 'kind', 'metadata'].includes(key);
      if (!envelope) {
        out.push(`${at}/${key}`);
      }
      continue;
    }
    out.push(...prunedFields(childSchema, child, `${at}/${key}`));
  }
  return out;
}

/** Validates against a set and returns a readable failure report ('' when fine). */
export function crdReport(
  object: { apiVersion: string; kind: string },
  set: CrdSet,
): string {
  const result = validateAgainstCrd(object, set);
  const problems = [
    ...result.errors,
    ...result.pruned.map(p => `${p} would be pruned (not in the schema)`),
  ];
  return problems.length === 0
    ? ''
    : `${object.kind} vs ${path.basename(
        result.file,
      )} (${set}):\n  ${problems.join('\n  ')}`;
}

/**
 * Validates against every set that has the object's CRD version (top level and `newest/`).
 * Returns the sets checked and a combined report ('' when valid everywhere); throws when no set
 * has the CRD.
 */
export function validateAgainstAllCrdSets(object: {
  apiVersion: string;
  kind: string;
}): {
  sets: CrdSet[];
  report: string;
} {
  const sets = (['top', 'newest'] as CrdSet[]).filter(set =>
    crdSchema(object.apiVersion, object.kind, set),
  );
  if (sets.length === 0) {
    throw new Error(
      `no CRD for ${object.apiVersion} ${object.kind} in ${crdsDir()}`,
    );
  }
  const report = sets
    .map(set => crdReport(object, set))
    .filter(Boolean)
    .join('\n');
  return { sets, report };
}
