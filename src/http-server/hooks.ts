/**
 * Plugin hooks run in a plain loop, as the fast lane (./lane.ts) and its operation
 * (./operation.ts) run Yoga's and envelop's hook lists, instead of through promise helpers.
 */

/** Waits only for a hook that returned a promise (most return nothing: no extra turn). */
export function settled(value: unknown): Promise<unknown> | undefined {
  return value && typeof (value as Promise<unknown>).then === 'function'
    ? (value as Promise<unknown>)
    : undefined;
}

/**
 * Runs `hooks` in order, as Yoga and envelop do, until `done()`. Synchronous while the hooks are
 * (most return nothing): a promise only when one returned a promise, which it waits for before the
 * next. What a hook returns (or its promise resolves to), when truthy, goes into `results` (an
 * after-hook). One payload serves them all: what a hook may change (`setResult`, `setResponse`) is
 * read back through its getters. Indexed, not `for … of`: an iterator held across an `await` is
 * allocated per call.
 */
export function runHooks(
  hooks: ReadonlyArray<(payload: never) => unknown>,
  payload: object,
  done?: () => boolean,
  results?: unknown[],
  from = 0,
): Promise<void> | undefined {
  for (let i = from; i < hooks.length; i += 1) {
    const out = hooks[i]!(payload as never);
    const pending = settled(out);
    if (pending) {
      return pending.then((value) => {
        if (value) {
          results?.push(value);
        }
        return done?.() ? undefined : runHooks(hooks, payload, done, results, i + 1);
      });
    }
    if (out) {
      results?.push(out);
    }
    if (done?.()) {
      return undefined;
    }
  }
  return undefined;
}
