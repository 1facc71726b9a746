/**
 * Part 3, batching: one `upsertContacts` of N new contacts to all four providers; the provider
 * calls each sandbox recorded, against the minimum Σ⌈N/Bₚ⌉. Writes and the extra calls a provider
 * needs (Dotdigital's import polls, Salesforce MC's token) are counted apart: the minimum is for
 * writes. Then the same with every contact sent twice in one request (duplicates coalesced?).
 */
import type { Child } from '../lib/child.js';
import { gql } from '../lib/client.js';

export type Counts = Record<string, Record<string, number>>;

export interface BatchRow {
  label: string;
  inputs: number;
  unique: number;
  ms: number;
  upstreamRequests: number;
  providers: Array<{
    provider: string;
    batch: number;
    writes: number;
    minimum: number;
    /** Dotdigital import polls, Salesforce MC token calls */
    extra: number;
    extraKind: string;
  }>;
}

const DOCUMENT = `mutation Batch($i: [ContactInput!]!) {
  upsertContacts(inputs: $i) {
    items { outcomes { provider status } }
    summary { total succeeded failed upstreamRequests }
  }
}`;

interface BatchData {
  upsertContacts: {
    items: Array<{ outcomes: Array<{ provider: string; status: string }> }>;
    summary: { total: number; succeeded: number; failed: number; upstreamRequests: number };
  };
}

export function contacts(tag: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({
    email: `${tag}-${i}@bench.example.com`,
    firstName: `First${i}`,
    lastName: 'Bench',
    address: { country: 'GB', postalCode: 'NW1 2DB' },
  }));
}

/** Which recorded calls are extras rather than writes. */
const EXTRA: Record<string, { kind: string; match: (key: string) => boolean }> = {
  DOTDIGITAL: { kind: 'import polls', match: (k) => k.startsWith('GET /contacts/v3/import/') },
  // The token, and the look-ups (the contact-key one before a create: `SFMC_KEY_LOOKUP`, on by
  // default).
  SALESFORCE_MC: {
    kind: 'token calls and key look-ups',
    match: (k) => k === 'POST /v2/token' || k.startsWith('POST /contacts/v1/addresses/'),
  },
};

export async function batchSizes(origin: string): Promise<Record<string, number>> {
  const data = await gql<{
    providers: Array<{ provider: string; enabled: boolean; maxBatchSize: number | null }>;
  }>(origin, '{ providers { provider enabled maxBatchSize } }');
  const out: Record<string, number> = {};
  for (const p of data.providers) {
    if (p.enabled) {
      // Salesforce MC has no bulk write route: one contact per call, whatever it reports.
      out[p.provider] = p.provider === 'SALESFORCE_MC' ? 1 : (p.maxBatchSize ?? 1);
    }
  }
  return out;
}

export type ProviderCalls = BatchRow['providers'][number];

/** The calls the sandboxes recorded, per provider: writes (vs the minimum ⌈N/Bₚ⌉) and extras. */
export function countWrites(
  counts: Counts,
  sizes: Record<string, number>,
  unique: number,
): { recorded: number; providers: ProviderCalls[] } {
  let recorded = 0;
  const providers = Object.entries(sizes).map(([provider, batch]) => {
    const byKey = counts[provider] ?? {};
    const extra = EXTRA[provider];
    let writes = 0;
    let extras = 0;
    for (const [key, n] of Object.entries(byKey)) {
      recorded += n;
      if (extra?.match(key)) {
        extras += n;
      } else {
        writes += n;
      }
    }
    return {
      provider,
      batch,
      writes,
      minimum: Math.ceil(unique / batch),
      extra: extras,
      extraKind: extra?.kind ?? '',
    };
  });
  return { recorded, providers };
}

export async function runBatch(
  origin: string,
  sandboxes: Child<unknown>,
  sizes: Record<string, number>,
  opts: { label: string; inputs: ReturnType<typeof contacts>; unique: number },
): Promise<BatchRow> {
  await sandboxes.call('clear');
  const start = performance.now();
  const data = await gql<BatchData>(origin, DOCUMENT, { i: opts.inputs });
  const ms = performance.now() - start;
  const { summary, items } = data.upsertContacts;
  const notOk = items.flatMap((it) =>
    it.outcomes.filter((o) => o.status !== 'CREATED' && o.status !== 'UPDATED'),
  );
  if (summary.succeeded !== opts.inputs.length || notOk.length > 0) {
    throw new Error(
      `${opts.label}: not every write succeeded: ${JSON.stringify(summary)} ${JSON.stringify(notOk.slice(0, 3))}`,
    );
  }
  const { recorded, providers } = countWrites(
    await sandboxes.call<Counts>('counts'),
    sizes,
    opts.unique,
  );
  if (recorded !== summary.upstreamRequests) {
    throw new Error(
      `${opts.label}: the sandboxes recorded ${recorded} calls, summary.upstreamRequests says ${summary.upstreamRequests}`,
    );
  }
  return {
    label: opts.label,
    inputs: opts.inputs.length,
    unique: opts.unique,
    ms,
    upstreamRequests: summary.upstreamRequests,
    providers,
  };
}
