import { getHeapSpaceStatistics } from 'node:v8';
import { type GcFunction, gcFunction } from '../contacts/reclaim.js';

/**
 * The young generation's collection (a scavenge) while no request is in flight, once it is
 * {@link IDLE_SCAVENGE_FRACTION} full.
 *
 * Why: V8 scavenges when the young generation fills (or, near full, in a task it posts), and that
 * moment falls inside whichever request is running. A scavenge copies what is alive then, so one
 * inside a request also copies that request's objects, and on an idle machine (caches cold after
 * milliseconds of nothing) it took 6–10 ms here: about one request in 80 at one request every
 * 25 ms (bench/segments.ts). Between requests it copies almost nothing, and a request arriving
 * next finds the young generation mostly empty. Under load there is no such moment (some request
 * is always in flight) and V8 collects as before.
 *
 * Checked on the next turn after the last request in flight closed (its answer is written by
 * then), at most once per turn; the check reads V8's space statistics (~2 µs).
 */
export const IDLE_SCAVENGE_FRACTION = 0.5;

export interface IdleScavengerOptions {
  /** Whether a request is in flight (then nothing is done). */
  busy(): boolean;
  /** The young generation: bytes used and its current capacity (V8's by default). */
  young?: () => { used: number; capacity: number };
  /** V8's `gc` (exposed at run time by default); null: nothing is done. */
  gc?: GcFunction | null;
  fraction?: number;
}

function v8Young(): { used: number; capacity: number } {
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space') {
      return {
        used: space.space_used_size,
        capacity: space.space_used_size + space.space_available_size,
      };
    }
  }
  return { used: 0, capacity: 0 };
}

/** Returns the function to call whenever the last request in flight has closed. */
export function idleScavenger(options: IdleScavengerOptions): () => void {
  const young = options.young ?? v8Young;
  const fraction = options.fraction ?? IDLE_SCAVENGE_FRACTION;
  let gc = options.gc;
  let scheduled = false;
  const check = () => {
    scheduled = false;
    if (options.busy()) {
      return;
    }
    const { used, capacity } = young();
    if (capacity === 0 || used < capacity * fraction) {
      return;
    }
    if (gc === undefined) {
      gc = gcFunction();
    }
    gc?.({ type: 'minor' });
  };
  return () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(check);
    }
  };
}
