import { createHash } from 'node:crypto';

/** A serialized lineage answer. */
export interface CachedAnswer {
  body: Buffer;
}

/**
 * The entity tag of the answer to `key` under the registry change `token`: the answer is a function
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
 * Serialized `GET /lineage` answers, reused while the registry's change token (see
 * database/changes.ts) is the one they were computed under. The lineage of a hot model is a large
 * answer (thousands of nodes) that many people and tools ask for between two writes; reusing it
 * saves the walk and the JSON serialization. Least recently used answers are dropped beyond
 * `maxBytes`; an answer larger than a quarter of it is not kept.
 */
export class LineageCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, CachedAnswer & { token: string }>();
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

  /** The answer for `key` if it was computed under `token`. */
  get(key: string, token: string): CachedAnswer | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.token !== token) {
      this.#delete(key);
      return undefined;
    }
    // most recently used last
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /** Serializes `value`, keeps it under (`key`, `token`) when it fits, and returns it. */
  set(key: string, token: string, value: unknown): CachedAnswer {
    const body = Buffer.from(JSON.stringify(value));
    const answer = { body };
    if (body.length > this.#maxBytes / 4) {
      this.#delete(key);
      return answer;
    }
    this.#delete(key);
    this.#entries.set(key, { ...answer, token });
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
