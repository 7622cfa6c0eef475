/**
 * Requests that arrive while one of their lane is in flight wait and go together in the next one.
 *
 * The portal's per-request costs that do not grow with the items of a request — a permission
 * round trip with its tokens — are paid once per lane and round instead of once per HTTP request
 * when a caller has many requests in flight (a team submitting thousands of tasks one by one). Nothing is delayed when a lane is idle (its first request goes at once), and
 * nothing is cached: every item is sent after it arrived.
 */

interface Waiting<Q, A, C> {
  items: Q[];
  context: C;
  resolve(answers: A[]): void;
  reject(error: unknown): void;
}

interface Lane<Q, A, C> {
  waiting: Array<Waiting<Q, A, C>>;
}

export interface InFlightBatchesOptions<Q> {
  /** Items with the same key are sent once per round and share the answer. */
  dedupe?(item: Q): string;
}

export class InFlightBatches<Q, A, C> {
  readonly #send: (items: Q[], context: C) => Promise<A[]>;
  readonly #options: InFlightBatchesOptions<Q>;
  readonly #lanes = new Map<string, Lane<Q, A, C>>();

  /**
   * `send(items, context)` answers one item per item, in order; `context` is the first request's
   * of the round (requests share a lane only when their contexts are interchangeable).
   */
  constructor(
    send: (items: Q[], context: C) => Promise<A[]>,
    options: InFlightBatchesOptions<Q> = {},
  ) {
    this.#send = send;
    this.#options = options;
  }

  /** The answers to `items`, sent in lane `lane` with `context`. */
  run(lane: string, items: Q[], context: C): Promise<A[]> {
    return new Promise((resolve, reject) => {
      const busy = this.#lanes.get(lane);
      if (busy) {
        busy.waiting.push({ items, context, resolve, reject });
        return;
      }
      const started: Lane<Q, A, C> = {
        waiting: [{ items, context, resolve, reject }],
      };
      this.#lanes.set(lane, started);
      void this.#drain(lane, started);
    });
  }

  async #drain(key: string, lane: Lane<Q, A, C>): Promise<void> {
    try {
      while (lane.waiting.length > 0) {
        const round = lane.waiting.splice(0);
        // a failed round fails each of its requests (e.g. the permission backend is down)
        await this.#sendRound(round).catch(error =>
          round.forEach(w => w.reject(error)),
        );
      }
    } finally {
      this.#lanes.delete(key);
    }
  }

  /** Sends the items of `round` (each distinct one once) and answers every request of it. */
  async #sendRound(round: Array<Waiting<Q, A, C>>): Promise<void> {
    const dedupe = this.#options.dedupe;
    const index = new Map<string, number>();
    const unique: Q[] = [];
    const positions = round.map(w =>
      w.items.map(item => {
        if (!dedupe) return unique.push(item) - 1;
        const key = dedupe(item);
        let at = index.get(key);
        if (at === undefined) {
          at = unique.push(item) - 1;
          index.set(key, at);
        }
        return at;
      }),
    );
    const answers = unique.length
      ? await this.#send(unique, round[0].context)
      : [];
    round.forEach((w, r) => w.resolve(positions[r].map(at => answers[at])));
  }
}
