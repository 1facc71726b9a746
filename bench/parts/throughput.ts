/**
 * Part 2, throughput under autocannon (closed loop, `connections` in flight, 32 by default, the
 * sandbox answering after 20 ms; the floor's upstream pool has as many connections as there are
 * clients). The servers run on core 0, autocannon (this process) and the sandbox on core 1 where
 * taskset exists. Variants run in blocks of `seconds`, in a fresh (seeded) order every round
 * (`roundOrder`); the first round is warm-up and discarded. Every response body is checked
 * (`verifyBody`): a mismatch, error or non-2xx fails the bench.
 */
import autocannon from 'autocannon';
import type { Target } from '../lib/client.js';
import { percentile, roundOrder, sorted } from '../lib/stats.js';
import { GRAPHQL_HEADERS } from './hop.js';

export interface LoadTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The body of each request instead of `body` (called once per request, all connections sharing it). */
  nextBody?: (() => string) | undefined;
  verify(body: string): boolean;
  /** CPU time (µs) the server process has used so far */
  cpu(): Promise<number>;
  /** CPU time (µs) its PostgreSQL server processes have used so far (a gateway on PostgreSQL) */
  dbCpu?: (() => number | null) | undefined;
}

export interface LoadStats {
  name: string;
  requests: number;
  seconds: number;
  rps: number;
  roundRps: number[];
  p50: number;
  p99: number;
  /** server CPU time per request (µs), over the measured rounds */
  cpuUs: number;
  /** its PostgreSQL server processes' CPU time per request (µs); null when not measured */
  dbCpuUs?: number | null | undefined;
}

export const TRIVIAL_DOCUMENT = '{ __typename }';
const TRIVIAL_BODY = JSON.stringify({ query: TRIVIAL_DOCUMENT });
const TRIVIAL_ANSWER = JSON.stringify({ data: { __typename: 'Query' } });

/** A load target from a hop target (same request, same check) and its server's CPU clock. */
export function loadTarget(
  t: Target,
  cpu: () => Promise<number>,
  dbCpu?: () => number | null,
): LoadTarget {
  return {
    name: t.name,
    url: `${t.origin}${t.path}`,
    headers: t.headers,
    body: t.body,
    // autocannon counts non-2xx apart; the check sees the body only.
    verify: (body) => {
      try {
        return t.check(200, body);
      } catch {
        return false;
      }
    },
    cpu,
    dbCpu,
  };
}

/** `{ __typename }` against a GraphQL server (bare Yoga, a gateway). */
export function trivialTarget(
  name: string,
  origin: string,
  cpu: () => Promise<number>,
): LoadTarget {
  return {
    name,
    url: `${origin}/graphql`,
    headers: GRAPHQL_HEADERS,
    body: TRIVIAL_BODY,
    verify: (b) => b === TRIVIAL_ANSWER,
    cpu,
  };
}

async function block(target: LoadTarget, seconds: number, connections: number) {
  const latencies: number[] = [];
  const db0 = target.dbCpu?.() ?? null;
  const cpu0 = await target.cpu();
  const instance = autocannon({
    url: target.url,
    method: 'POST',
    headers: target.headers,
    body: target.body,
    connections,
    pipelining: 1,
    duration: seconds,
    // seconds; a response slower than this fails the bench (a loaded machine is slow, not wrong)
    timeout: 30,
    verifyBody: target.verify,
    ...(target.nextBody
      ? {
          requests: [
            {
              setupRequest: (req: { body?: string }) => ({ ...req, body: target.nextBody!() }),
            },
          ],
        }
      : {}),
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
  });
  const result = await instance;
  const cpuUs = (await target.cpu()) - cpu0;
  const db1 = target.dbCpu?.() ?? null;
  const dbCpuUs = db0 === null || db1 === null ? null : db1 - db0;
  if (result.errors || result.timeouts || result.mismatches || result.non2xx) {
    throw new Error(
      `${target.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.mismatches} wrong bodies, ${result.non2xx} non-2xx`,
    );
  }
  return { requests: latencies.length, seconds: result.duration, latencies, cpuUs, dbCpuUs };
}

export async function runLoad(
  targets: readonly LoadTarget[],
  opts: {
    label: string;
    rounds: number;
    seconds: number;
    /** the warm-up round's blocks (discarded) */
    warmSeconds: number;
    connections: number;
    between?: () => Promise<void>;
    log: (line: string) => void;
  },
): Promise<LoadStats[]> {
  const acc = targets.map(() => ({
    requests: 0,
    seconds: 0,
    rps: [] as number[],
    lat: [] as number[],
    cpuUs: 0,
    dbCpuUs: 0 as number | null,
  }));
  for (let round = 0; round <= opts.rounds; round += 1) {
    for (const i of roundOrder(
      targets.map((_, k) => k),
      round,
    )) {
      const target = targets[i]!;
      await opts.between?.();
      const r = await block(
        target,
        round === 0 ? opts.warmSeconds : opts.seconds,
        opts.connections,
      );
      if (round > 0) {
        const a = acc[i]!;
        a.requests += r.requests;
        a.seconds += r.seconds;
        a.rps.push(r.requests / r.seconds);
        a.lat.push(...r.latencies);
        a.cpuUs += r.cpuUs;
        a.dbCpuUs = a.dbCpuUs === null || r.dbCpuUs === null ? null : a.dbCpuUs + r.dbCpuUs;
      }
    }
    opts.log(`  ${opts.label}: round ${round}/${opts.rounds}${round === 0 ? ' (warm-up)' : ''}`);
  }
  return targets.map((t, i) => {
    const a = acc[i]!;
    const asc = sorted(a.lat);
    return {
      name: t.name,
      requests: a.requests,
      seconds: a.seconds,
      rps: a.requests / a.seconds,
      roundRps: a.rps,
      p50: percentile(asc, 50),
      p99: percentile(asc, 99),
      cpuUs: a.cpuUs / a.requests,
      dbCpuUs: t.dbCpu && a.dbCpuUs !== null ? a.dbCpuUs / a.requests : null,
    };
  });
}
