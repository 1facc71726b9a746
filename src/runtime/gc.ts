import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's `gc` extension: a full collection, or with `{ type: 'minor' }` a young-generation scavenge. */
export type GcFunction = (options?: { type: 'major' | 'minor' }) => void;

let exposed: GcFunction | null | undefined;

/**
 * V8's `gc` function, or null where it cannot be had. `--expose-gc` is set at run time (it applies
 * to contexts made afterwards, hence the new context), so no start flag is needed; the process's
 * own `global.gc` is used when it was started with the flag.
 */
export function gcFunction(): GcFunction | null {
  if (exposed === undefined) {
    try {
      const own = (globalThis as { gc?: GcFunction }).gc;
      if (typeof own === 'function') {
        exposed = own;
      } else {
        setFlagsFromString('--expose-gc');
        const made = runInNewContext('gc') as unknown;
        exposed = typeof made === 'function' ? (made as GcFunction) : null;
      }
    } catch {
      exposed = null;
    }
  }
  return exposed;
}
