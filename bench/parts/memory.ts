/**
 * Part 4, memory, in a fresh gateway process started with `--expose-gc`:
 *
 * - heap growth of one `upsertContacts` of N (10 000) new contacts to all four providers: peak
 *   (heap sampled every 2 ms while it runs) and retained (after a full GC; the identity map keeps
 *   one record per new contact, so some growth is expected) over the baseline after warm-up;
 * - RSS and heap over `repeats` (200) runs of one `upsertContacts` of the same `repeatN` contacts
 *   (after the first run they are updates, so the identity map does not grow): any upward trend is
 *   a leak. RSS is read without forcing GC; heap after a full GC every 10 runs.
 */
import type { Child } from '../lib/child.js';
import { gql } from '../lib/client.js';
import { median, slope } from '../lib/stats.js';
import { contacts } from './batching.js';

export interface MemoryResult {
  /** which providers were written to */
  providers: string;
  n: number;
  bulkMs: number;
  baselineHeap: number;
  peakHeap: number;
  /** largest heap right after a GC while it ran */
  liveHeap: number;
  gcs: Record<string, number>;
  retainedHeap: number;
  baselineRss: number;
  peakRss: number;
  repeats: number;
  repeatN: number;
  repeatMs: number;
  rss: number[];
  heap: number[];
  /** least-squares slope over the second half, bytes per run */
  rssSlope: number;
  heapSlope: number;
  /** median RSS of the last quarter minus that of the second quarter (after warm-up) */
  rssDrift: number;
  heapDrift: number;
}

const DOCUMENT = `mutation Mem($i: [ContactInput!]!) {
  upsertContacts(inputs: $i) {
    items { contact { id } outcomes { provider status } }
    summary { total succeeded failed upstreamRequests }
  }
}`;

interface Mem {
  heapUsed: number;
  rss: number;
}

async function upsert(origin: string, inputs: ReturnType<typeof contacts>): Promise<void> {
  const data = await gql<{ upsertContacts: { summary: { succeeded: number } } }>(origin, DOCUMENT, {
    i: inputs,
  });
  if (data.upsertContacts.summary.succeeded !== inputs.length) {
    throw new Error(
      `memory: ${inputs.length - data.upsertContacts.summary.succeeded} writes failed`,
    );
  }
}

export async function runMemory(
  origin: string,
  gateway: Child<unknown>,
  sandboxes: Child<unknown>,
  opts: {
    providers: string;
    n: number;
    repeats: number;
    repeatN: number;
    log: (line: string) => void;
  },
): Promise<MemoryResult> {
  // Warm-up: every code path once, connections open, JIT settled.
  for (let i = 0; i < 3; i += 1) {
    await upsert(origin, contacts(`memwarm${i}`, 200));
  }
  await sandboxes.call('clear');
  const base = await gateway.call<Mem>('mem');
  await gateway.call('sampleStart');
  const t0 = performance.now();
  await upsert(origin, contacts('membulk', opts.n));
  const bulkMs = performance.now() - t0;
  const peak = await gateway.call<Mem & { liveHeap: number; gcs: Record<string, number> }>(
    'sampleStop',
  );
  const after = await gateway.call<Mem>('mem');
  await sandboxes.call('clear');
  opts.log(`  memory: ${opts.n} contacts in ${bulkMs.toFixed(0)} ms`);

  const same = contacts('memrepeat', opts.repeatN);
  const rss: number[] = [];
  const heap: number[] = [];
  const t1 = performance.now();
  for (let i = 0; i < opts.repeats; i += 1) {
    await upsert(origin, same);
    if (i % 10 === 9) {
      await sandboxes.call('clear');
      heap.push((await gateway.call<Mem>('mem')).heapUsed);
    }
    rss.push((await gateway.call<{ rss: number }>('rss')).rss);
    if (i % 50 === 49) {
      opts.log(`  memory: repeat ${i + 1}/${opts.repeats}`);
    }
  }
  const repeatMs = (performance.now() - t1) / opts.repeats;
  const q = (xs: number[], from: number, to: number) =>
    median(xs.slice(Math.floor(xs.length * from), Math.floor(xs.length * to)));
  return {
    providers: opts.providers,
    n: opts.n,
    bulkMs,
    baselineHeap: base.heapUsed,
    peakHeap: peak.heapUsed,
    liveHeap: peak.liveHeap,
    gcs: peak.gcs,
    retainedHeap: after.heapUsed,
    baselineRss: base.rss,
    peakRss: peak.rss,
    repeats: opts.repeats,
    repeatN: opts.repeatN,
    repeatMs,
    rss,
    heap,
    rssSlope: slope(rss.slice(Math.floor(rss.length / 2))),
    heapSlope: slope(heap.slice(Math.floor(heap.length / 2))) / 10,
    rssDrift: q(rss, 0.75, 1) - q(rss, 0.25, 0.5),
    heapDrift: q(heap, 0.75, 1) - q(heap, 0.25, 0.5),
  };
}
