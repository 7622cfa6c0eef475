/**
 * A wait that can be ended early: the informer loops sleep between retries and rounds, and stop()
 * (or a cluster answering again) must not wait for the rest of it.
 */
export class Pause {
  #wake: (() => void) | undefined;

  /** Resolves after `ms`, or at once when {@link wake} is called meanwhile. */
  for(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  /** Ends the current wait, if any. */
  wake(): void {
    this.#wake?.();
  }
}
