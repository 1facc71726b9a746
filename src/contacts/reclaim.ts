import { getHeapStatistics } from 'node:v8';
import { gcFunction } from '../runtime/gc.js';

/**
 * A full garbage collection while a large batch runs (between its slices, and on a timer within
 * one), whenever the heap grew by at least {@link RECLAIM_AFTER_BYTES} since the last one.
 *
 * Why: what a slice leaves behind is garbage (heap snapshots of a 10,000-contact `upsertContacts`
 * show ≤ 40 MB live over the baseline at any time), but a slice's items live for seconds, so they
 * survive the young generation's scavenges and are promoted; V8 then lets the old generation grow
 * to about 4× its live size before it marks, and the heap peaked at +200–280 MB. A full GC once the
 * heap grew by 16 MB keeps the peak near the live size, for tens of milliseconds per collection in
 * a batch that takes tens of seconds. Single writes and small batches (one slice) never call it.
 *
 * `gc` comes from `gcFunction` (`--expose-gc` set at run time); where that is refused it does
 * nothing.
 */
export const RECLAIM_AFTER_BYTES = 16 * 2 ** 20;

/** How often a running batch looks at the heap. */
export const RECLAIM_CHECK_MS = 50;

/**
 * A full garbage collection now; false where it cannot be had. For the end of a large batch: its
 * answer (every contact's, then the GraphQL result) is built on a heap without the slices' garbage.
 */
export function collectGarbage(): boolean {
  const gc = gcFunction();
  gc?.();
  return gc !== null;
}

/**
 * Watches one batch's heap while it runs: every {@link RECLAIM_CHECK_MS}, and when `between()` is
 * called after a slice, it collects once the heap has grown by `threshold` since the last
 * collection. `stop()` when the batch ends (the timer never keeps the process alive).
 */
export function heapReclaimer(threshold = RECLAIM_AFTER_BYTES): {
  between(): boolean;
  stop(): void;
} {
  let mark = getHeapStatistics().used_heap_size;
  const between = (): boolean => {
    const used = getHeapStatistics().used_heap_size;
    if (used - mark < threshold) {
      return false;
    }
    const gc = gcFunction();
    if (!gc) {
      return false;
    }
    gc();
    mark = getHeapStatistics().used_heap_size;
    return true;
  };
  const timer = setInterval(between, RECLAIM_CHECK_MS);
  timer.unref();
  return { between, stop: () => clearInterval(timer) };
}
