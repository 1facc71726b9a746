/**
 * Recording work (a request's `request` log line, its metrics) that need not delay its answer. The
 * fast lane (./lane.ts) gives its request a list under DEFERRED and runs it right after the
 * response is written, in the same turn: the line and the metrics hold what they hold now
 * (durations are measured before the write), and nothing else runs between. Everywhere else (a
 * request Yoga serves, `yoga.fetch`) the work runs at once, where it always ran.
 *
 * Why: after 20 ms of idle the log line and the metric observations cost ~30 µs on the way to the
 * answer; after the write they overlap the client reading it.
 */
export const DEFERRED = Symbol('contact-gateway.afterWrite');

interface Deferring {
  [DEFERRED]?: Array<() => void> | null;
}

/** Runs `work` once `request`'s response is written (the fast lane's), or now. */
export function afterWrite(request: object | undefined, work: () => void): void {
  const list = (request as Deferring | undefined)?.[DEFERRED];
  if (list) {
    list.push(work);
  } else {
    work();
  }
}

/** Runs what was deferred for `request`, in order, each alone (one throwing stops none of the rest). */
export function runDeferred(request: object, onError: (err: unknown) => void): void {
  const deferring = request as Deferring;
  const list = deferring[DEFERRED];
  deferring[DEFERRED] = null;
  if (!list) {
    return;
  }
  for (let i = 0; i < list.length; i += 1) {
    try {
      list[i]!();
    } catch (err) {
      onError(err);
    }
  }
}
