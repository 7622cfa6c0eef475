/**
 * A backend run by backstage-cli's dev runner (`yarn start`) gets every stop signal twice: from
 * the terminal's Ctrl-C or a signal to the process group, and again from the runner, which passes
 * SIGINT / SIGTERM on to its child. Backstage stops on the first; on the second its handler finds
 * the backend already unregistered and exits at once — the plugins' stop unfinished (the audit
 * events of the last requests, the informers' cursors, their Lease). Call this right after
 * `backend.start()` (which registers those handlers): from then on only the first stop signal
 * reaches them; a later one is ignored while the first stop runs.
 */
export function stopOnFirstSignal(
  signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'],
): void {
  const state = { stopping: false };
  for (const signal of signals) {
    const handlers = process.listeners(signal) as Array<
      (signal: NodeJS.Signals) => void
    >;
    process.removeAllListeners(signal);
    process.on(signal, () => {
      if (state.stopping) return;
      state.stopping = true;
      for (const handler of handlers) handler(signal);
    });
  }
}
