/**
 * Part 1, hop overhead: one `upsertContact` to Notifuse, sent sequentially (one in flight) and
 * timed with hrtime, through several paths to the same sandbox:
 *
 *   direct       undici → sandbox (the body the gateway's adapter sends)
 *   bare-proxy   undici → node:http proxy → undici → sandbox (the floor for any hop)
 *   yoga-pass    undici → bare Yoga, resolver → undici → sandbox
 *   gateway…     undici → a gateway variant (bench/lib/suts.ts) → undici → sandbox
 *   peer         undici → Hive Gateway + Mesh → sandbox (the same call, Notifuse's field names)
 *
 * Every variant first serves `BENCH_HOP_WARM` requests at 0 ms (`warmUp`, not recorded). Then
 * blocks of `block` requests per variant, in a fresh (seeded) order every round (`roundOrder`); the
 * first round is warm-up and discarded.
 */
import { SANDBOX_CREDENTIALS } from '../../src/sandbox-mode.js';
import { gql, probe, type Target, upsertOk } from '../lib/client.js';
import { percentile, roundOrder, sorted } from '../lib/stats.js';

/** The baselines every run measures; the servers under test are added by name. */
export const BASELINES = ['direct', 'bare-proxy', 'yoga-pass'] as const;
/** `direct`, `bare-proxy`, `yoga-pass`, or a server under test (`gateway`, `gateway-pg`, `peer`, …) */
export type HopVariant = string;

export interface VariantStats {
  variant: HopVariant;
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  /** every measured latency (ms), for the chart */
  samples: number[];
  /** p50 of each measured round */
  roundP50: number[];
  roundP99: number[];
}

export interface HopResult {
  delayMs: number;
  rounds: number;
  block: number;
  /** in the order measured */
  order: HopVariant[];
  variants: Record<HopVariant, VariantStats>;
}

export const UPSERT_DOCUMENT =
  'mutation Upsert($i: ContactInput!) { upsertContact(input: $i) { outcomes { status } } }';

export const PROBE_INPUT = {
  email: 'probe@bench.example.com',
  firstName: 'Probe',
  lastName: 'Bench',
  address: { country: 'GB', postalCode: 'NW1 2DB' },
};

export const GRAPHQL_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
export const UPSERT_BODY = JSON.stringify({
  query: UPSERT_DOCUMENT,
  variables: { i: PROBE_INPUT },
});

/**
 * Upsert bodies in turn, {@link PROBE_INPUT} each with its own email (`load-<k>@…`, k cycling
 * through `count`): part 2's `distinct` load sends them, so concurrent requests write different
 * contacts. One turn for every caller (each load block continues it).
 */
export function distinctUpsertBodies(count: number): () => string {
  let k = -1;
  return () => {
    k = (k + 1) % count;
    return JSON.stringify({
      query: UPSERT_DOCUMENT,
      variables: { i: { ...PROBE_INPUT, email: `load-${k}@bench.example.com` } },
    });
  };
}

/** The direct call: the sandbox, and the adapter's exact request. */
export interface DirectCall {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The direct call: exactly the request the adapter sends for {@link PROBE_INPUT}, taken from a dry
 * run of the gateway at `gatewayOrigin` (the floor and `direct` make this call).
 */
export async function plannedDirectCall(
  gatewayOrigin: string,
  headers: Record<string, string> = {},
): Promise<DirectCall> {
  const dry = await gql<{
    upsertContact: { outcomes: Array<{ request: { url: string; body: unknown } }> };
  }>(
    gatewayOrigin,
    'mutation($i: ContactInput!) { upsertContact(input: $i, options: { dryRun: true }) { outcomes { request } } }',
    { i: PROBE_INPUT },
    headers,
  );
  const planned = dry.upsertContact.outcomes[0]!.request;
  const url = new URL(planned.url);
  return {
    origin: url.origin,
    path: url.pathname,
    headers: {
      accept: 'application/json',
      authorization: `Bearer ${SANDBOX_CREDENTIALS.notifuse.apiKey}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(planned.body),
  };
}

export function baselineTargets(direct: DirectCall, bareOrigin: string): Target[] {
  return [
    {
      name: 'direct',
      origin: direct.origin,
      path: direct.path,
      headers: direct.headers,
      body: direct.body,
      check: (status, text) =>
        status === 200 &&
        /^(create|update)$/.test(String((JSON.parse(text) as { action?: string }).action)),
    },
    {
      name: 'bare-proxy',
      origin: bareOrigin,
      path: '/proxy',
      headers: GRAPHQL_HEADERS,
      body: UPSERT_BODY,
      check: upsertOk,
    },
    {
      name: 'yoga-pass',
      origin: bareOrigin,
      path: '/graphql',
      headers: GRAPHQL_HEADERS,
      body: UPSERT_BODY,
      check: upsertOk,
    },
  ];
}

/** A gateway variant: the same GraphQL request as the baselines. */
export function gatewayTarget(name: string, origin: string): Target {
  return {
    name,
    origin,
    path: '/graphql',
    headers: GRAPHQL_HEADERS,
    body: UPSERT_BODY,
    check: upsertOk,
  };
}

/**
 * Brings every target to steady state before anything is measured: `n` sequential requests each,
 * at 0 ms upstream, not recorded. V8 went on optimizing the gateway's code for its first
 * ~2,500–3,000 upserts (counted with `--trace-opt`), on a background thread that shares the
 * server's core, and a gateway measured within them answered 0 ms upserts ~0.4 ms slower.
 */
export async function warmUp(
  targets: readonly Target[],
  opts: { n: number; setDelay(ms: number): Promise<void>; log: (line: string) => void },
): Promise<void> {
  await opts.setDelay(0);
  for (const target of targets) {
    const client = probe(target);
    try {
      for (let i = 0; i < opts.n; i += 1) {
        await client.once();
      }
    } finally {
      await client.close();
    }
    opts.log(`  warm-up: ${target.name}, ${opts.n} requests`);
  }
}

export async function runHop(
  targets: readonly Target[],
  opts: {
    delayMs: number;
    rounds: number;
    block: number;
    setDelay(ms: number): Promise<void>;
    log: (line: string) => void;
  },
): Promise<HopResult> {
  await opts.setDelay(opts.delayMs);
  const order: HopVariant[] = targets.map((t) => t.name);
  const probes = new Map(targets.map((t) => [t.name, probe(t)]));
  const samples = new Map(order.map((v) => [v, [] as number[]]));
  const roundP50 = new Map(order.map((v) => [v, [] as number[]]));
  const roundP99 = new Map(order.map((v) => [v, [] as number[]]));
  try {
    // Round 0 is warm-up (JIT, connections, caches): measured the same way, then dropped.
    for (let round = 0; round <= opts.rounds; round += 1) {
      for (const variant of roundOrder(order, round)) {
        const block: number[] = [];
        for (let i = 0; i < opts.block; i += 1) {
          block.push(await probes.get(variant)!.once());
        }
        if (round > 0) {
          samples.get(variant)!.push(...block);
          const asc = sorted(block);
          roundP50.get(variant)!.push(percentile(asc, 50));
          roundP99.get(variant)!.push(percentile(asc, 99));
        }
      }
      opts.log(
        `  hop ${opts.delayMs} ms: round ${round}/${opts.rounds}${round === 0 ? ' (warm-up)' : ''}`,
      );
    }
  } finally {
    await Promise.all([...probes.values()].map((p) => p.close()));
  }
  const variants: Record<HopVariant, VariantStats> = {};
  for (const variant of order) {
    const all = samples.get(variant)!;
    const asc = sorted(all);
    variants[variant] = {
      variant,
      n: asc.length,
      p50: percentile(asc, 50),
      p90: percentile(asc, 90),
      p99: percentile(asc, 99),
      mean: asc.reduce((sum, v) => sum + v, 0) / asc.length,
      samples: all,
      roundP50: roundP50.get(variant)!,
      roundP99: roundP99.get(variant)!,
    };
  }
  return { delayMs: opts.delayMs, rounds: opts.rounds, block: opts.block, order, variants };
}
