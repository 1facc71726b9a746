/**
 * Part 1, hop overhead: one `upsertContact` to Notifuse, sent sequentially (one in flight) and
 * timed with hrtime, through four paths to the same sandbox:
 *
 *   direct       undici → sandbox (the body the gateway's adapter sends)
 *   bare-proxy   undici → node:http proxy → undici → sandbox (the floor for any hop)
 *   yoga-pass    undici → bare Yoga, resolver → undici → sandbox
 *   gateway      undici → gateway → undici → sandbox
 *
 * Blocks of `block` requests per variant, variants rotated every round (A/B/C/D, B/C/D/A, …); the
 * first round is warm-up and discarded.
 */
import { probe, type Target, upsertOk } from '../lib/client.js';
import { percentile, sorted } from '../lib/stats.js';

export const HOP_VARIANTS = ['direct', 'bare-proxy', 'yoga-pass', 'gateway'] as const;
/** `gateway-alt`: the gateway built from another source tree (`BENCH_COMPARE`), when asked for. */
export type HopVariant = (typeof HOP_VARIANTS)[number] | 'gateway-alt';

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
  /** in the order measured; `gateway-alt` only with BENCH_COMPARE */
  order: HopVariant[];
  variants: Partial<Record<HopVariant, VariantStats>> &
    Record<(typeof HOP_VARIANTS)[number], VariantStats>;
}

export interface HopSetup {
  gatewayOrigin: string;
  /** a second gateway, from another source tree */
  altOrigin?: string;
  bareOrigin: string;
  /** the direct call: sandbox origin, path, headers and the adapter's body */
  direct: { origin: string; path: string; headers: Record<string, string>; body: string };
  setDelay(ms: number): Promise<void>;
}

export const UPSERT_DOCUMENT =
  'mutation Upsert($i: ContactInput!) { upsertContact(input: $i) { outcomes { status } } }';

export const PROBE_INPUT = {
  email: 'probe@bench.example.com',
  firstName: 'Probe',
  lastName: 'Bench',
  address: { country: 'GB', postalCode: 'NW1 2DB' },
};

const GRAPHQL_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

export function hopTargets(setup: HopSetup): Partial<Record<HopVariant, Target>> {
  const body = JSON.stringify({ query: UPSERT_DOCUMENT, variables: { i: PROBE_INPUT } });
  return {
    ...(setup.altOrigin
      ? {
          'gateway-alt': {
            name: 'gateway-alt',
            origin: setup.altOrigin,
            path: '/graphql',
            headers: GRAPHQL_HEADERS,
            body,
            check: upsertOk,
          },
        }
      : {}),
    direct: {
      name: 'direct',
      origin: setup.direct.origin,
      path: setup.direct.path,
      headers: setup.direct.headers,
      body: setup.direct.body,
      check: (status, text) =>
        status === 200 &&
        /^(create|update)$/.test(String((JSON.parse(text) as { action?: string }).action)),
    },
    'bare-proxy': {
      name: 'bare-proxy',
      origin: setup.bareOrigin,
      path: '/proxy',
      headers: GRAPHQL_HEADERS,
      body,
      check: upsertOk,
    },
    'yoga-pass': {
      name: 'yoga-pass',
      origin: setup.bareOrigin,
      path: '/graphql',
      headers: GRAPHQL_HEADERS,
      body,
      check: upsertOk,
    },
    gateway: {
      name: 'gateway',
      origin: setup.gatewayOrigin,
      path: '/graphql',
      headers: GRAPHQL_HEADERS,
      body,
      check: upsertOk,
    },
  };
}

export async function runHop(
  setup: HopSetup,
  opts: { delayMs: number; rounds: number; block: number; log: (line: string) => void },
): Promise<HopResult> {
  await setup.setDelay(opts.delayMs);
  const targets = hopTargets(setup);
  const order: HopVariant[] = [
    ...HOP_VARIANTS,
    ...(setup.altOrigin ? (['gateway-alt'] as const) : []),
  ];
  const probes = new Map(order.map((v) => [v, probe(targets[v]!)]));
  const samples = new Map(order.map((v) => [v, [] as number[]]));
  const roundP50 = new Map(order.map((v) => [v, [] as number[]]));
  const roundP99 = new Map(order.map((v) => [v, [] as number[]]));
  try {
    // Round 0 is warm-up (JIT, connections, caches): measured the same way, then dropped.
    for (let round = 0; round <= opts.rounds; round += 1) {
      const rotated = order.map((_, i) => order[(i + round) % order.length]!);
      for (const variant of rotated) {
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
  const variants: Partial<Record<HopVariant, VariantStats>> = {};
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
  return {
    delayMs: opts.delayMs,
    rounds: opts.rounds,
    block: opts.block,
    order,
    variants: variants as HopResult['variants'],
  };
}
