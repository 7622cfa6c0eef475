import type { LineageGraph, LineageNode } from '@kubeai/plugin-kubeai-common';
import { createHash } from 'node:crypto';
import {
  ALL_SCOPES,
  artifactScope,
  scopeOf,
  type RegistryChanges,
} from '../database/changes';

/** A serialized lineage answer. */
export interface CachedAnswer {
  body: Buffer;
}

/** A held answer: its body, what it was computed under, and its graph (to patch it). */
export interface HeldAnswer extends CachedAnswer {
  validity: AnswerValidity;
  graph: LineageGraph;
}

/**
 * The scopes a lineage answer depends on (database/changes.ts): the entities of its nodes, its
 * runs (a summary node `run:<task>/executions` is its task's), the artifacts its services serve
 * (a model version registered later with one of them joins the answer), and `*`.
 */
export function lineageScopes(graph: LineageGraph): string[] {
  const scopes = new Set<string>([ALL_SCOPES]);
  const add = (scope: string | undefined) => {
    if (scope) scopes.add(scopeOf(scope));
  };
  for (const node of graph.nodes) {
    add(node.entityRef);
    if (node.runId) add(`run:${node.runId}`);
    const summary = /^(run:[^/]+)\/executions$/.exec(node.id);
    if (summary) add(summary[1]);
    const observed = node.observed as
      | { storageUri?: unknown; traffic?: Array<{ storageUri?: unknown }> }
      | undefined;
    if (typeof observed?.storageUri === 'string') {
      add(artifactScope(observed.storageUri));
    }
    for (const target of Array.isArray(observed?.traffic)
      ? observed!.traffic
      : []) {
      if (typeof target?.storageUri === 'string') {
        add(artifactScope(target.storageUri));
      }
    }
  }
  return [...scopes].sort();
}

/** What a lineage answer was computed under: the versions of its scopes. */
export interface AnswerValidity {
  /** `scope=version` of every scope, sorted: the same on every replica for the same state. */
  token: string;
  scopes: string[];
  versions: Map<string, number>;
  /** This process's write count when the computation started (SQLite: no query while equal). */
  localWrites: number;
}

/**
 * The validity of an answer computed after reading `horizon` and `localWrites`: undefined when a
 * scope of the answer changed since (the answer may predate that write: serve it, keep nothing).
 */
export async function validityOf(
  changes: RegistryChanges,
  graph: LineageGraph,
  horizon: number,
  localWrites: number,
): Promise<AnswerValidity | undefined> {
  const scopes = lineageScopes(graph);
  const versions = await changes.versions(scopes);
  // a write of this process committed and its versions are still rising: keep nothing
  if (changes.settling) return undefined;
  if ([...versions.values()].some(v => v > horizon)) return undefined;
  return { token: tokenOf(versions), scopes, versions, localWrites };
}

/** The versions of a held answer's scopes now, and the horizon read before them. */
export interface StaleState {
  versions: Map<string, number>;
  horizon: number;
}

/**
 * Whether a held answer is still valid: no write in this process (SQLite), or the same versions
 * (`true`); else the versions its scopes have now and the horizon read just before them
 * (`undefined` while a write of this process is settling).
 */
export async function heldState(
  changes: RegistryChanges,
  validity: AnswerValidity,
): Promise<true | StaleState | undefined> {
  if (changes.settling) return undefined;
  if (!changes.shared && changes.localWrites === validity.localWrites) {
    return true;
  }
  // before the versions: unchanged after the patch's reads, no write committed in between
  const horizon = await changes.horizon();
  const versions = await changes.versions(validity.scopes);
  if (tokenOf(versions) !== validity.token) return { versions, horizon };
  if (!changes.shared) validity.localWrites = changes.localWrites;
  return true;
}

/**
 * The held answer patched to the current versions of its scopes, when every write since it was
 * computed changed only the details of some of its nodes (database/changes.ts `touchNodes`):
 * those nodes are read again (`readDetails`) and replaced; the graph's nodes and edges stay. The
 * patched answer is exactly what a new walk would give. Undefined when another write touched a
 * scope of it, or one committed while patching: compute it again.
 */
export async function patchHeld(
  changes: RegistryChanges,
  held: HeldAnswer,
  stale: StaleState,
  readDetails: (
    ids: string[],
  ) => Promise<Map<string, Partial<LineageNode>> | undefined>,
): Promise<{ graph: LineageGraph; validity: AnswerValidity } | undefined> {
  const { versions, horizon } = stale;
  const localWrites = changes.localWrites;
  const ids = await changes.nodeChanges(held.validity.versions, versions);
  if (!ids) return undefined;
  const inGraph = new Map(held.graph.nodes.map((node, i) => [node.id, i]));
  const wanted = [...ids].filter(id => inGraph.has(id));
  const details = wanted.length ? await readDetails(wanted) : new Map();
  if (!details) return undefined;
  // The details read belong to exactly these versions when no write committed since the
  // horizon read before them: every write raises the highest version.
  if (changes.settling || (await changes.horizon()) !== horizon) {
    return undefined;
  }
  if ([...versions.values()].some(v => v > horizon)) return undefined;
  const nodes = [...held.graph.nodes];
  for (const [id, fields] of details) {
    const i = inGraph.get(id)!;
    nodes[i] = { ...nodes[i], ...fields };
  }
  return {
    graph: { ...held.graph, nodes },
    validity: {
      token: tokenOf(versions),
      scopes: held.validity.scopes,
      versions,
      localWrites,
    },
  };
}

function tokenOf(versions: Map<string, number>): string {
  return [...versions.keys()]
    .sort()
    .map(scope => `${scope}=${versions.get(scope)}`)
    .join('\n');
}

/**
 * The entity tag of the answer to `key` under `token` (the versions of its scopes, the same on
 * every replica): the answer is a function
 * of the two, so the tag needs no hashing of the body, and a request whose If-None-Match matches
 * a held answer is answered 304 without serializing anything. Weak: equal content, not
 * byte-for-byte promised.
 */
export function lineageEtag(key: string, token: string): string {
  const hash = createHash('sha1')
    .update(`${key}\n${token}`)
    .digest('base64url')
    .slice(0, 27);
  return `W/"lineage-${hash}"`;
}

/**
 * Memory of a held answer (its body, and its graph to patch it) per byte of its body: the hot
 * model's graph of bench/lineage (4,288 nodes) takes 1.4 times its 1.26 MB body on the heap.
 */
export const HELD_BYTES_PER_BODY_BYTE = 2.5;

/**
 * Serialized `GET /lineage` answers, reused while the versions of their scopes (see
 * database/changes.ts) are the ones they were computed under. The lineage of a hot model is a large
 * answer (thousands of nodes) that many people and tools ask for between two writes; reusing it
 * saves the walk and the JSON serialization. Least recently used answers are dropped beyond
 * `maxBytes`; an answer larger than a quarter of it is not kept.
 */
export class LineageCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, HeldAnswer & { bytes: number }>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The answer held for `key` and what it was computed under (check it with {@link stillValid}). */
  peek(key: string): HeldAnswer | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    // most recently used last
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /** Forgets the answer for `key` (it is no longer valid). */
  drop(key: string): void {
    this.#delete(key);
  }

  /** Serializes `graph`, keeps it for `key` when it fits and is valid, and returns it. */
  set(
    key: string,
    validity: AnswerValidity | undefined,
    graph: LineageGraph,
  ): CachedAnswer {
    const body = Buffer.from(JSON.stringify(graph));
    const answer = { body };
    const bytes = Math.ceil(body.length * HELD_BYTES_PER_BODY_BYTE);
    if (!validity || bytes > this.#maxBytes / 4) {
      this.#delete(key);
      return answer;
    }
    this.#delete(key);
    this.#entries.set(key, { ...answer, validity, graph, bytes });
    this.#bytes += bytes;
    for (const oldest of this.#entries.keys()) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#delete(oldest);
    }
    return answer;
  }

  #delete(key: string) {
    const entry = this.#entries.get(key);
    if (entry) {
      this.#bytes -= entry.bytes;
      this.#entries.delete(key);
    }
  }
}
