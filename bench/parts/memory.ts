/**
 * Part 4, memory, in a fresh server process started with `--expose-gc`:
 *
 * - heap growth of one request importing N (10 000) new contacts: for a gateway one
 *   `upsertContacts` to all four providers, for the peer one request of aliased
 *   `batchImportContacts` (Notifuse only, the gateway's Notifuse batch size per call). Peak (heap
 *   sampled every 2 ms and read before every GC) and retained (after a full GC) over the baseline
 *   after warm-up, and the provider calls the sandboxes recorded (writes vs the minimum ⌈N/Bₚ⌉);
 * - optionally RSS and heap over `repeats` runs of one `upsertContacts` of the same `repeatN`
 *   contacts (after the first run they are updates, so the identity map does not grow): any upward
 *   trend is a leak. RSS is read without forcing GC; heap after a full GC every 10 runs.
 */
import type { Child } from '../lib/child.js';
import { gql } from '../lib/client.js';
import { peerImport } from '../lib/peer.js';
import { periodDrift, quarterDrift, slope } from '../lib/stats.js';
import { type Counts, contacts, countWrites, type ProviderCalls } from './batching.js';

export interface MemoryResult {
  server: string;
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
  /** the bulk request's provider calls */
  calls: ProviderCalls[];
  repeats: number;
  repeatN: number;
  repeatMs: number;
  rss: number[];
  heap: number[];
  /** least-squares slope over the second half, bytes per run */
  rssSlope: number;
  heapSlope: number;
  /** median RSS of the last whole GC periods (10 repeats each) minus that of as many before them (`periodDrift`) */
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

type Inputs = ReturnType<typeof contacts>;

/** How a server is sent N contacts in one request (throws unless every one succeeded). */
export type BulkSender = (origin: string, inputs: Inputs) => Promise<void>;

export const gatewayBulk: BulkSender = async (origin, inputs) => {
  const data = await gql<{ upsertContacts: { summary: { succeeded: number } } }>(origin, DOCUMENT, {
    i: inputs,
  });
  if (data.upsertContacts.summary.succeeded !== inputs.length) {
    throw new Error(
      `memory: ${inputs.length - data.upsertContacts.summary.succeeded} writes failed`,
    );
  }
};

/** The peer: Notifuse's own field names, `chunk` contacts per `batchImportContacts`. */
export function peerBulk(workspaceId: string, chunk: number): BulkSender {
  return async (origin, inputs) => {
    const notifuse = inputs.map((c) => ({
      email: c.email,
      first_name: c.firstName,
      last_name: c.lastName,
      country: c.address.country,
      postcode: c.address.postalCode,
    }));
    const { query, variables, calls } = peerImport(workspaceId, notifuse, chunk);
    const data = await gql<Record<string, { __typename: string }>>(origin, query, variables);
    const ok = Object.values(data).filter((v) => v.__typename === 'BatchImportContactsResponse');
    if (ok.length !== calls) {
      throw new Error(`memory (peer): ${calls - ok.length} of ${calls} imports failed`);
    }
  };
}

export async function runMemory(
  origin: string,
  server: Child<unknown>,
  sandboxes: Child<unknown>,
  opts: {
    server: string;
    providers: string;
    send: BulkSender;
    /** batch size per provider (for the minimum number of calls) */
    sizes: Record<string, number>;
    n: number;
    repeats: number;
    repeatN: number;
    log: (line: string) => void;
  },
): Promise<MemoryResult> {
  // Warm-up: every code path once, connections open, JIT settled.
  for (let i = 0; i < 3; i += 1) {
    await opts.send(origin, contacts(`memwarm${i}`, 200));
  }
  await sandboxes.call('clear');
  const base = await server.call<Mem>('mem');
  await server.call('sampleStart');
  const t0 = performance.now();
  await opts.send(origin, contacts('membulk', opts.n));
  const bulkMs = performance.now() - t0;
  const peak = await server.call<Mem & { liveHeap: number; gcs: Record<string, number> }>(
    'sampleStop',
  );
  const after = await server.call<Mem>('mem');
  const { providers: calls } = countWrites(
    await sandboxes.call<Counts>('counts'),
    opts.sizes,
    opts.n,
  );
  await sandboxes.call('clear');
  opts.log(
    `  memory ${opts.server}: ${opts.n} contacts in ${bulkMs.toFixed(0)} ms, heap +${((peak.heapUsed - base.heapUsed) / 2 ** 20).toFixed(1)} MB peak`,
  );

  const same = contacts('memrepeat', opts.repeatN);
  const rss: number[] = [];
  const heap: number[] = [];
  const t1 = performance.now();
  for (let i = 0; i < opts.repeats; i += 1) {
    await opts.send(origin, same);
    if (i % 10 === 9) {
      await sandboxes.call('clear');
      heap.push((await server.call<Mem>('mem')).heapUsed);
    }
    rss.push((await server.call<{ rss: number }>('rss')).rss);
    if (i % 50 === 49) {
      opts.log(`  memory ${opts.server}: repeat ${i + 1}/${opts.repeats}`);
    }
  }
  await sandboxes.call('clear');
  const repeatMs = opts.repeats > 0 ? (performance.now() - t1) / opts.repeats : 0;
  return {
    server: opts.server,
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
    calls,
    repeats: opts.repeats,
    repeatN: opts.repeatN,
    repeatMs,
    rss,
    heap,
    rssSlope: slope(rss.slice(Math.floor(rss.length / 2))),
    heapSlope: slope(heap.slice(Math.floor(heap.length / 2))) / 10,
    rssDrift: periodDrift(rss, 10),
    heapDrift: quarterDrift(heap),
  };
}
