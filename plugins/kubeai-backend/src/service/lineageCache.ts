import type { LineageGraph } from '@kubeai/plugin-kubeai-common';
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
  return { token: tokenOf(versions), scopes, localWrites };
}

/** Whether an answer is still valid: no write in this process (SQLite), or the same versions. */
export async function stillValid(
  changes: RegistryChanges,
  validity: AnswerValidity,
): Promise<boolean> {
  if (changes.settling) return false;
  if (!changes.shared && changes.localWrites === validity.localWrites) {
    return true;
  }
  const token = tokenOf(await changes.versions(validity.scopes));
  if (token !== validity.token) return false;
  if (!changes.shared) validity.localWrites = changes.localWrites;
  return true;
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
 * Serialized `GET /lineage` answers, reused while the versions of their scopes (see
 * database/changes.ts) are the ones they were computed under. The lineage of a hot model is a large
 * answer (thousands of nodes) that many people and tools ask for between two writes; reusing it
 * saves the walk and the JSON serialization. Least recently used answers are dropped beyond
 * `maxBytes`; an answer larger than a quarter of it is not kept.
 */
export class LineageCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<
    string,
    CachedAnswer & { validity: AnswerValidity }
  >();
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
  peek(key: string): (CachedAnswer & { validity: AnswerValidity }) | undefined {
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

  /** Serializes `value`, keeps it for `key` when it fits and is valid, and returns it. */
  set(
    key: string,
    validity: AnswerValidity | undefined,
    value: unknown,
  ): CachedAnswer {
    const body = Buffer.from(JSON.stringify(value));
    const answer = { body };
    if (!validity || body.length > this.#maxBytes / 4) {
      this.#delete(key);
      return answer;
    }
    this.#delete(key);
    this.#entries.set(key, { ...answer, validity });
    this.#bytes += body.length;
    for (const oldest of this.#entries.keys()) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#delete(oldest);
    }
    return answer;
  }

  #delete(key: string) {
    const entry = this.#entries.get(key);
    if (entry) {
      this.#bytes -= entry.body.length;
      this.#entries.delete(key);
    }
  }
}
