import { useState } from 'react';

/** The outcome of the last action: its value, or its error. */
export type ActionResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: unknown };

/**
 * Runs a confirmed action (a button after its dialog): `busy` while it runs, then its `result`.
 * `onSuccess` runs after a success (reload the data), `onSettled` either way (close the dialog).
 */
export function useActionRunner<T>() {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ActionResult<T>>();
  const run = async (
    action: () => Promise<T>,
    callbacks: { onSuccess?(): void; onSettled?(): void } = {},
  ) => {
    setBusy(true);
    setResult(undefined);
    try {
      const value = await action();
      setResult({ ok: true, value });
      callbacks.onSuccess?.();
    } catch (error) {
      setResult({ ok: false, error });
    } finally {
      setBusy(false);
      callbacks.onSettled?.();
    }
  };
  return { busy, result, run };
}
