/**
 * `npm run bench` (`-- --peer` to add the peer): how fast the gateway is in the configuration its
 * users run, beside the floor (a bare node:http proxy making the same upstream call), a bare Yoga
 * pass-through, the in-memory store, PostgreSQL (when `DATABASE_URL` is set), another checkout
 * (`BENCH_COMPARE`) and the peer (Hive Gateway + Mesh). Every figure is measured in the same
 * session, interleaved (A/B/C…, a fresh seeded order every round, warm-up discarded, every response checked).
 * Writes bench/RESULTS.md and bench/latency.svg. Knobs (env): see bench/README.md and `KNOBS`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { SANDBOX_CREDENTIALS } from '../src/sandbox-mode.js';
import { type Child, hasTaskset, pinRunner, type ServerReady, startChild } from './lib/child.js';
import { gql, type Target } from './lib/client.js';
import { machine, postgresCpuUs, quietness } from './lib/machine.js';
import {
  composePeer,
  installPeer,
  PEER_DIR,
  PEER_UPSERT_DOCUMENT,
  peerUpsertAnswer,
} from './lib/peer.js';
import { type ReportInput, renderResults, type StartupRss } from './lib/report.js';
import {
  dbName,
  dropDatabases,
  gatewaySpecs,
  PEER_SPEC,
  type Store,
  type SutSpec,
  startSut,
} from './lib/suts.js';
import { renderChart } from './lib/svg.js';
import { type BatchRow, batchSizes, contacts, runBatch } from './parts/batching.js';
import {
  baselineTargets,
  distinctUpsertBodies,
  GRAPHQL_HEADERS,
  gatewayTarget,
  type HopResult,
  PROBE_INPUT,
  plannedDirectCall,
  runHop,
  UPSERT_BODY,
  warmUp,
} from './parts/hop.js';
import { gatewayBulk, type MemoryResult, peerBulk, runMemory } from './parts/memory.js';
import { type LoadStats, loadTarget, runLoad, trivialTarget } from './parts/throughput.js';
import type { SandboxInfo } from './servers/sandboxes.js';

const num = (name: string, def: number) => {
  const v = process.env[name];
  return v === undefined || v === '' ? def : Number(v);
};
const list = (name: string, def: string) =>
  (process.env[name] ?? def)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const databaseUrl = process.env['DATABASE_URL'] || null;
const withoutPg = (stores: string[]) =>
  stores.filter((s) => s !== 'postgres' || databaseUrl) as Store[];

export const KNOBS = {
  parts: list('BENCH_PARTS', 'hop,throughput,rss,batching,memory'),
  /** gateway variants of this checkout: `embedded` (npm start), `postgres`, `memory` */
  stores: withoutPg(list('BENCH_STORES', 'embedded,postgres,memory')),
  /** the peer (Hive Gateway + Mesh): `npm run bench -- --peer` or BENCH_PEER=1 */
  peer: process.argv.includes('--peer') || process.env['BENCH_PEER'] === '1',
  hopDelays: list('BENCH_HOP_DELAYS', '0,20').map(Number),
  /**
   * sequential upserts every server serves at 0 ms before parts 1 and 2 (not recorded): V8 went on
   * optimizing the gateway's code for its first ~2,500–3,000 (`--trace-opt`)
   */
  hopWarm: num('BENCH_HOP_WARM', 3000),
  hopRounds: num('BENCH_HOP_ROUNDS', 4),
  /**
   * measured rounds at a delay above 0: 12, because with 4 two identical checkouts differed by up
   * to 0.03× in the 20 ms p50 within one run (drift between blocks), with 12 by 0.001×
   */
  hopRoundsSlow: num('BENCH_HOP_ROUNDS_SLOW', 12),
  /** sequential requests per variant per round, at 0 ms and at a delay above 0 */
  hopBlockFast: num('BENCH_HOP_BLOCK', 300),
  hopBlockSlow: num('BENCH_HOP_BLOCK_SLOW', 50),
  loadRounds: num('BENCH_LOAD_ROUNDS', 4),
  loadSeconds: num('BENCH_LOAD_SECONDS', 5),
  loadWarmSeconds: num('BENCH_LOAD_WARM_SECONDS', 1),
  connections: num('BENCH_CONNECTIONS', 32),
  /** the sandbox's delay during the load test (ms) */
  loadDelayMs: num('BENCH_LOAD_DELAY', 20),
  /**
   * which load tests part 2 runs: `upsert` (every client writes one contact), `distinct` (the
   * clients write 1,000 contacts in turn, so concurrent requests write different ones), `trivial`
   * (`{ __typename }`)
   */
  loads: list('BENCH_LOADS', 'upsert,distinct'),
  /** contacts the `distinct` load writes in turn (more than it sends: every request a new contact) */
  distinctContacts: num('BENCH_DISTINCT', 1000),
  /** how long every server is left idle for its idle CPU (part 3; 0: not measured) */
  idleMs: num('BENCH_IDLE_MS', 30_000),
  /**
   * idle time before that reading starts. Read right after the servers' start (10 s, no settle),
   * V8's own work after activity (lazy compilation, the memory reducer's collections for tens of
   * seconds) was most of it: the floor's process read 8 to 429 ms a minute, the same gateway code
   * 142 to 666. After 45 s, over 30 s: the floor 2.2–2.6, the embedded gateway 19–56 (2026-12-07).
   */
  idleSettleMs: num('BENCH_IDLE_SETTLE_MS', 45_000),
  /** idle time between a server's start and its RSS reading */
  settleMs: num('BENCH_SETTLE_MS', 1000),
  batchN: list('BENCH_N', '1,100').map(Number),
  batchDup: num('BENCH_DUP_N', 100),
  memN: num('BENCH_MEM_N', 10_000),
  /** repeats for the RSS trend (the default gateway only; 0 = off) */
  memRepeats: num('BENCH_MEM_REPEATS', 50),
  memRepeatN: num('BENCH_MEM_REPEAT_N', 200),
  /** providers the gateways write to in parts 4 and 5 (all four by default) */
  memProviders: list('BENCH_MEM_PROVIDERS', 'NOTIFUSE,DOTDIGITAL,SALESFORCE_MC,DIGITAL_ONBOARDING'),
  cpuProf: process.env['BENCH_CPU_PROF'] ?? '',
  /**
   * Another checkout (a git worktree with its own node_modules, e.g. the commit before a change):
   * its gateway runs as `gateway-alt…` in every part, interleaved with this one's.
   */
  compare: process.env['BENCH_COMPARE'] ?? '',
  compareStores: withoutPg(list('BENCH_COMPARE_STORES', 'embedded,postgres')),
  compareLabel: process.env['BENCH_COMPARE_LABEL'] ?? '',
};

const here = fileURLToPath(new URL('.', import.meta.url));

// Pin this process (the probe and autocannon) to core 1 and the servers under test to core 0.
const cores = os.cpus().length;
const pin = hasTaskset() && cores >= 2;
pinRunner(1, fileURLToPath(import.meta.url));
const CPU = { server: 0, client: 1, sandbox: cores > 2 ? 2 : 1 };

const log = (line: string) => console.log(line);
const started = performance.now();
const quietBefore = quietness();
if (quietBefore.load1 >= 1 || quietBefore.others.length > 0) {
  log(
    `warning: the machine is not quiet (load ${quietBefore.load1}${quietBefore.others.length ? `, ${quietBefore.others.length} vitest process(es)` : ''}); figures will be disturbed`,
  );
}
const info = machine();
log(
  `bench: ${info.cpu}, ${cores} cores, Node ${info.node}; ${pin ? 'servers on core 0, load generator on core 1' : 'no taskset: nothing pinned'}`,
);

const children: Array<Child<unknown>> = [];
async function start<R>(name: string, file: string, opts: Parameters<typeof startChild>[2]) {
  const child = await startChild<R>(name, file, opts);
  children.push(child as Child<unknown>);
  return child;
}
async function stopAll() {
  await Promise.all(children.splice(0).map((c) => c.stop()));
}
async function stopOne(child: Child<unknown>) {
  children.splice(children.indexOf(child), 1);
  await child.stop();
}
process.on('SIGINT', () => {
  void stopAll()
    .then(() => dropDatabases(databaseUrl))
    .finally(() => process.exit(130));
});

const origin = (port: number) => `http://127.0.0.1:${port}`;
const want = (part: string) => KNOBS.parts.includes(part);

function compareLabel(): string {
  if (KNOBS.compareLabel) {
    return KNOBS.compareLabel;
  }
  try {
    const sha = execFileSync('git', ['-C', KNOBS.compare, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return `before (${sha})`;
  } catch {
    return 'before';
  }
}

if (KNOBS.compare) {
  KNOBS.compareLabel = compareLabel();
}
const specs: SutSpec[] = [
  ...gatewaySpecs(KNOBS.stores),
  ...(KNOBS.compare ? gatewaySpecs(KNOBS.compareStores, KNOBS.compare, KNOBS.compareLabel) : []),
  ...(KNOBS.peer ? [PEER_SPEC] : []),
];
const runDir = mkdtempSync(join(os.tmpdir(), 'contact-gateway-bench-'));
const ctx = {
  runDir,
  cpu: CPU.server,
  databaseUrl,
  cpuProf: KNOBS.cpuProf,
} as {
  runDir: string;
  cpu: number;
  databaseUrl: string | null;
  cpuProf: string;
  supergraph?: string;
};

async function startTracked(spec: SutSpec, opts: Parameters<typeof startSut>[2]) {
  const child = await startSut(spec, ctx, opts);
  children.push(child as Child<unknown>);
  return child;
}

const results: {
  hop: HopResult[];
  trivial: LoadStats[];
  upsertLoad: LoadStats[];
  distinctLoad: LoadStats[];
  rss: StartupRss[];
  batch: BatchRow[];
  memory: MemoryResult[];
  memoryFailed: Array<{ server: string; error: string }>;
  peerVersions: Record<string, string> | null;
  peerCheck: string | null;
} = {
  hop: [],
  trivial: [],
  upsertLoad: [],
  distinctLoad: [],
  rss: [],
  batch: [],
  memory: [],
  memoryFailed: [],
  peerVersions: null,
  peerCheck: null,
};

try {
  // One process holds the four provider sandboxes for the whole run.
  const sb = await start<SandboxInfo[]>('sandboxes', 'sandboxes.ts', { cpu: CPU.sandbox });
  const notifuse = sb.ready.find((s) => s.provider === 'NOTIFUSE')!;
  const setDelay = async (ms: number) => {
    await sb.call('latency', { provider: 'NOTIFUSE', ms });
    await sb.call('clear');
  };
  if (KNOBS.peer) {
    results.peerVersions = installPeer(log);
    log(`peer: composing the supergraph from src/specs/notifuse.openapi.json (${PEER_DIR})`);
    ctx.supergraph = composePeer({
      endpoint: notifuse.url,
      apiKey: SANDBOX_CREDENTIALS.notifuse.apiKey,
      dir: runDir,
    });
  }

  /** A server's RSS one settle interval after its start (part 3). */
  const settledRss = async (child: Child<ServerReady>): Promise<number> => {
    await sleep(KNOBS.settleMs);
    return (await child.call<{ rss: number }>('rss')).rss;
  };
  // ---- parts 1, 2 and 3 (resident memory): Notifuse only, sandbox mode off ----
  if (want('hop') || want('throughput') || want('rss')) {
    const hopEnv = notifuse.env;
    const running = new Map<string, Child<ServerReady>>();
    const rss = new Map<string, StartupRss>();
    for (const spec of specs) {
      log(`starting ${spec.name}`);
      const child = await startTracked(spec, { phase: 'hop', env: hopEnv, fresh: true });
      const bytes = await settledRss(child);
      rss.set(spec.name, { server: spec.name, first: bytes, firstStartMs: child.ready.startMs });
      running.set(spec.name, child);
    }
    const first = specs.find((s) => s.kind === 'gateway')!;
    const gwOrigin = origin(running.get(first.name)!.ready.port);

    // The direct call: exactly the request the adapter sends (from a dry run), checked against
    // what the sandbox records for a real write.
    const direct = await plannedDirectCall(gwOrigin);
    const plannedBody = JSON.parse(direct.body) as unknown;
    await gql(
      gwOrigin,
      'mutation($i: ContactInput!) { upsertContact(input: $i) { outcomes { status } } }',
      { i: PROBE_INPUT },
    );
    const [sent] = await sb.call<Array<{ rawBody: string; path: string }>>('requests', {
      provider: 'NOTIFUSE',
      limit: 1,
    });
    if (sent?.rawBody !== direct.body || sent.path !== direct.path) {
      throw new Error(
        `the dry run's request differs from what the gateway sent: ${sent?.rawBody} vs ${direct.body}`,
      );
    }

    const targets: Target[] = [];
    const peer = running.get('peer');
    if (peer) {
      const peerOrigin = origin(peer.ready.port);
      // Checked once: the peer's call reaches the sandbox with the adapter's body.
      const peerBody = JSON.stringify({
        query: PEER_UPSERT_DOCUMENT,
        variables: { i: plannedBody },
      });
      await sb.call('clear');
      const res = await fetch(`${peerOrigin}/graphql`, {
        method: 'POST',
        headers: GRAPHQL_HEADERS,
        body: peerBody,
      });
      const text = await res.text();
      const [call] = await sb.call<
        Array<{ rawBody: string; path: string; method: string; headers: Record<string, string> }>
      >('requests', { provider: 'NOTIFUSE', limit: 1 });
      const sameBody =
        call !== undefined && isDeepStrictEqual(JSON.parse(call.rawBody), plannedBody);
      if (
        res.status !== 200 ||
        !peerUpsertAnswer(text) ||
        !call ||
        call.method !== 'POST' ||
        call.path !== direct.path ||
        call.headers['authorization'] !== direct.headers['authorization'] ||
        !sameBody
      ) {
        throw new Error(
          `peer: its call did not reach the sandbox as the adapter's does: answer ${res.status} ${text.slice(0, 300)}; sandbox saw ${call ? `${call.method} ${call.path} ${call.rawBody}` : 'nothing'}`,
        );
      }
      results.peerCheck = `${call.method} ${call.path}, bearer key, body equal to the adapter's as JSON (${call.rawBody.length} bytes): ${call.rawBody}`;
      log(`peer: checked, ${results.peerCheck}`);
      targets.push({
        name: 'peer',
        origin: peerOrigin,
        path: '/graphql',
        headers: GRAPHQL_HEADERS,
        body: peerBody,
        check: (status, t) => status === 200 && peerUpsertAnswer(t),
      });
    }
    await sb.call('clear');

    const bare = await start<{ port: number }>('bare', 'bare.ts', {
      cpu: CPU.server,
      env: {
        BENCH_UPSTREAM: JSON.stringify({ url: notifuse.url, ...direct }),
        BENCH_UPSTREAM_CONNECTIONS: String(KNOBS.connections),
      },
      nodeFlags: KNOBS.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${KNOBS.cpuProf}/bare`] : [],
    });
    const bareOrigin = origin(bare.ready.port);
    await sleep(KNOBS.settleMs);
    const bareCpu = () => bare.call<number>('cpu');
    // Every server idle at once (each has served a request or two): its own timers' CPU.
    const idleCpu = new Map<string, number>();
    if (want('rss') && KNOBS.idleMs > 0) {
      log(
        `idle: every server left idle for ${KNOBS.idleSettleMs} + ${KNOBS.idleMs} ms, process CPU read over the last ${KNOBS.idleMs} ms`,
      );
      await sleep(KNOBS.idleSettleMs);
      const readers: Array<[string, () => Promise<number>]> = [
        ['bare-proxy', bareCpu],
        ...[...running].map(([name, c]): [string, () => Promise<number>] => [
          name,
          () => c.call<number>('cpu'),
        ]),
      ];
      const before = await Promise.all(readers.map(([, read]) => read()));
      await sleep(KNOBS.idleMs);
      const after = await Promise.all(readers.map(([, read]) => read()));
      readers.forEach(([name], i) => {
        idleCpu.set(name, (after[i]! - before[i]!) / 1000 / (KNOBS.idleMs / 60_000));
      });
      for (const [name, entry] of rss) {
        entry.idleCpuMsPerMin = idleCpu.get(name);
      }
    }
    targets.unshift(
      ...baselineTargets(direct, bareOrigin),
      ...specs
        .filter((s) => s.kind === 'gateway')
        .map((s) => gatewayTarget(s.name, origin(running.get(s.name)!.ready.port))),
    );
    const cpuOf = (name: string) =>
      running.has(name) ? () => running.get(name)!.call<number>('cpu') : bareCpu;
    // A gateway on PostgreSQL: its server processes' CPU too (read from /proc, a local server).
    const dbCpuOf = (name: string) =>
      specs.some((s) => s.name === name && s.store === 'postgres')
        ? () => postgresCpuUs(dbName(name, 'hop'))
        : undefined;

    if ((want('hop') || want('throughput')) && KNOBS.hopWarm > 0) {
      log(`warm-up: ${KNOBS.hopWarm} sequential upserts per server at 0 ms, not recorded`);
      await warmUp(targets, { n: KNOBS.hopWarm, setDelay, log });
      await sb.call('clear');
    }
    if (want('hop')) {
      for (const delayMs of KNOBS.hopDelays) {
        log(`part 1: hop overhead, sandbox delay ${delayMs} ms`);
        results.hop.push(
          await runHop(targets, {
            delayMs,
            rounds: delayMs > 0 ? KNOBS.hopRoundsSlow : KNOBS.hopRounds,
            block: delayMs > 0 ? KNOBS.hopBlockSlow : KNOBS.hopBlockFast,
            setDelay,
            log,
          }),
        );
        await sb.call('clear');
      }
    }
    if (want('throughput')) {
      await setDelay(KNOBS.loadDelayMs);
      const common = {
        rounds: KNOBS.loadRounds,
        seconds: KNOBS.loadSeconds,
        warmSeconds: KNOBS.loadWarmSeconds,
        connections: KNOBS.connections,
        between: async () => {
          await sb.call('clear');
        },
        log,
      };
      if (KNOBS.loads.includes('upsert')) {
        log(
          `part 2: throughput, upsertContact, ${KNOBS.connections} clients, sandbox delay ${KNOBS.loadDelayMs} ms`,
        );
        results.upsertLoad = await runLoad(
          targets
            .filter((t) => t.name !== 'direct')
            .map((t) => loadTarget(t, cpuOf(t.name), dbCpuOf(t.name))),
          { ...common, label: 'upsertContact' },
        );
      }
      if (KNOBS.loads.includes('distinct')) {
        log(
          `part 2: throughput, upsertContact of ${KNOBS.distinctContacts} contacts in turn, ${KNOBS.connections} clients, sandbox delay ${KNOBS.loadDelayMs} ms`,
        );
        const nextBody = distinctUpsertBodies(KNOBS.distinctContacts);
        results.distinctLoad = await runLoad(
          targets
            .filter((t) => t.name !== 'direct')
            .map((t) => ({
              ...loadTarget(t, cpuOf(t.name), dbCpuOf(t.name)),
              // The gateways and bare Yoga take the contact from the body; the floor and the
              // peer send their one call whatever they receive.
              nextBody: t.body === UPSERT_BODY ? nextBody : undefined,
            })),
          { ...common, label: 'upsertContact, distinct contacts' },
        );
      }
      if (KNOBS.loads.includes('trivial')) {
        log('part 2: throughput, trivial query');
        results.trivial = await runLoad(
          [
            trivialTarget('bare-yoga', bareOrigin, bareCpu),
            ...specs.map((s) =>
              trivialTarget(s.name, origin(running.get(s.name)!.ready.port), cpuOf(s.name)),
            ),
          ],
          { ...common, label: 'trivial' },
        );
      }
      await setDelay(0);
    }
    const bareRss = (await bare.call<{ rss: number }>('rss')).rss;
    await stopOne(bare as Child<unknown>);
    for (const child of running.values()) {
      await stopOne(child as Child<unknown>);
    }
    if (want('rss')) {
      // A restart on the same data directory (or database), as after a deploy.
      for (const spec of specs) {
        const child = await startTracked(spec, { phase: 'hop', env: hopEnv, fresh: false });
        const bytes = await settledRss(child);
        Object.assign(rss.get(spec.name)!, { restart: bytes, restartStartMs: child.ready.startMs });
        await stopOne(child as Child<unknown>);
        log(`  restarted ${spec.name}: RSS ${(bytes / 2 ** 20).toFixed(0)} MB`);
      }
      // Sandbox mode (no provider variables: every provider's emulator in the gateway's process),
      // as a new user's `npm ci && npm start` runs: first start on a fresh data directory, then a
      // restart on it. The goal names this configuration.
      for (const spec of specs.filter((s) => s.kind === 'gateway' && s.store === 'embedded')) {
        const entry: StartupRss = { server: `${spec.name}-sandbox`, first: 0, firstStartMs: 0 };
        for (const fresh of [true, false]) {
          const child = await startTracked(spec, { phase: 'sandbox', env: {}, fresh });
          const bytes = await settledRss(child);
          if (fresh) {
            Object.assign(entry, { first: bytes, firstStartMs: child.ready.startMs });
          } else {
            Object.assign(entry, { restart: bytes, restartStartMs: child.ready.startMs });
          }
          await stopOne(child as Child<unknown>);
        }
        rss.set(entry.server, entry);
        log(
          `  ${entry.server}: RSS ${(entry.first / 2 ** 20).toFixed(0)} / ${((entry.restart ?? 0) / 2 ** 20).toFixed(0)} MB`,
        );
      }
    }
    results.rss = [
      {
        server: 'bare-proxy',
        first: bareRss,
        firstStartMs: 0,
        ...(idleCpu.has('bare-proxy') ? { idleCpuMsPerMin: idleCpu.get('bare-proxy')! } : {}),
      },
      ...rss.values(),
    ];
  }

  // ---- parts 4 and 5: all four providers (BENCH_MEM_PROVIDERS), provider rate limits off ----
  if (want('batching') || want('memory')) {
    const providerEnv = Object.assign(
      {},
      ...sb.ready.filter((s) => KNOBS.memProviders.includes(s.provider)).map((s) => s.env),
    ) as Record<string, string>;
    const providers =
      KNOBS.memProviders.length === 4 ? 'all four providers' : KNOBS.memProviders.join(', ');
    const maxN = Math.max(KNOBS.memN, KNOBS.memRepeatN, ...KNOBS.batchN, KNOBS.batchDup * 2);
    const env = {
      ...providerEnv,
      // Provider rate limits off: the bench counts calls, not the account's pace.
      DOTDIGITAL_RATE_PER_SECOND: '0',
      SFMC_RATE_PER_SECOND: '0',
      DIGITAL_ONBOARDING_RATE_PER_SECOND: '0',
      MAX_BATCH_INPUTS: String(maxN),
      // Salesforce MC has no bulk endpoint: one upsertContacts of ~2,000 contacts alone reaches the
      // default budget of 2,000 provider calls per request. The bench measures big batches.
      GATEWAY_MAX_UPSTREAM_CALLS: String(Math.min(1_000_000, Math.max(2000, maxN * 10))),
      DOTDIGITAL_IMPORT_POLL_INTERVAL_MS: '20',
      // The bulk identity claim of 10,000 contacts is one statement: on a loaded machine it can
      // outlast the default 10 s statement timeout (STORE_UNAVAILABLE). Raised for this part.
      DATABASE_STATEMENT_TIMEOUT_MS: '600000',
      // … and waiting for a pooled connection can outlast the 5 s connect timeout.
      DATABASE_CONNECT_TIMEOUT_MS: '600000',
      // One request of 10,000 contacts queues thousands of Salesforce MC calls (16 in flight): on a
      // loaded machine the queue outlasts the 30 s per-call deadline and the breaker opens. The
      // bench measures heap and calls here, not deadlines.
      CALL_DEADLINE_MS: '3600000',
      BREAKER_THRESHOLD: '1000',
    };
    let sizes: Record<string, number> | null = null;
    for (const spec of specs) {
      log(`part 4/5: ${spec.name}, ${spec.kind === 'peer' ? 'Notifuse' : providers}`);
      const child = await startTracked(spec, {
        phase: 'batch',
        env: spec.kind === 'peer' ? {} : env,
        fresh: true,
        nodeFlags: ['--expose-gc'],
      });
      const o = origin(child.ready.port);
      if (spec.kind === 'gateway') {
        sizes ??= await batchSizes(o);
      }
      const notifuseB = sizes?.['NOTIFUSE'] ?? 500;
      if (want('memory')) {
        // One server failing its batch (a store timeout on a loaded machine) is recorded, and the
        // others are still measured.
        await runMemory(o, child, sb, {
          server: spec.name,
          providers: spec.kind === 'peer' ? 'Notifuse only' : providers,
          send:
            spec.kind === 'peer'
              ? peerBulk(SANDBOX_CREDENTIALS.notifuse.workspaceId, notifuseB)
              : gatewayBulk,
          sizes: spec.kind === 'peer' ? { NOTIFUSE: notifuseB } : (sizes ?? {}),
          n: KNOBS.memN,
          repeats: spec.name === 'gateway' ? KNOBS.memRepeats : 0,
          repeatN: KNOBS.memRepeatN,
          log,
        })
          .then((m) => results.memory.push(m))
          .catch(async (err: unknown) => {
            const error = (err instanceof Error ? err.message : String(err)).slice(0, 300);
            results.memoryFailed.push({ server: spec.name, error });
            log(`  memory ${spec.name} failed: ${error}`);
            await sb.call('clear');
          });
      }
      if (want('batching') && (spec.name === 'gateway' || spec.name === 'gateway-alt') && sizes) {
        const suffix = spec.name === 'gateway' ? '' : ' (alt)';
        for (const n of KNOBS.batchN) {
          const row = await runBatch(o, sb, sizes, {
            label: `N = ${n.toLocaleString('en-US')}${suffix}`,
            inputs: contacts(`batch${n}${suffix ? 'alt' : ''}`, n),
            unique: n,
          });
          results.batch.push(row);
          log(`  ${row.label}: ${row.upstreamRequests} calls in ${row.ms.toFixed(0)} ms`);
        }
        const once = contacts(`dup${suffix ? 'alt' : ''}`, KNOBS.batchDup);
        const twice = [...once, ...once.map((c) => ({ ...c, firstName: `${c.firstName}-again` }))];
        const row = await runBatch(o, sb, sizes, {
          label: `${KNOBS.batchDup} contacts × 2${suffix}`,
          inputs: twice,
          unique: KNOBS.batchDup,
        });
        results.batch.push(row);
        log(`  ${row.label}: ${row.upstreamRequests} calls in ${row.ms.toFixed(0)} ms`);
      }
      await stopOne(child as Child<unknown>);
    }
  }
} catch (err) {
  log(`bench failed; server logs are kept in ${runDir}`);
  process.env['BENCH_KEEP'] = '1';
  throw err;
} finally {
  await stopAll();
  await dropDatabases(databaseUrl).catch((err: unknown) => log(`could not drop: ${String(err)}`));
  if (process.env['BENCH_KEEP'] !== '1') {
    rmSync(runDir, { recursive: true, force: true });
  }
}

const seconds = (performance.now() - started) / 1000;
const quietAfter = quietness();
const all = ['hop', 'throughput', 'rss', 'batching', 'memory'].every(want);
const write = process.env['BENCH_WRITE'] ? process.env['BENCH_WRITE'] === '1' : all;
const input: ReportInput = {
  machine: info,
  pinned: pin,
  knobs: KNOBS,
  quiet: { before: quietBefore, after: quietAfter },
  seconds,
  specs,
  ...results,
};
if (process.env['BENCH_JSON']) {
  // For bench/merge.ts: the parts of one report measured in separate runs.
  writeFileSync(process.env['BENCH_JSON'], JSON.stringify(input));
  log(`wrote ${process.env['BENCH_JSON']}`);
}
const markdown = renderResults(input);
console.log(`\n${markdown}`);
if (write) {
  writeFileSync(`${here}RESULTS.md`, markdown);
  if (results.hop.length > 0) {
    writeFileSync(`${here}latency.svg`, renderChart(results.hop));
  }
  log(
    `wrote bench/RESULTS.md${results.hop.length > 0 ? ' and bench/latency.svg' : ''} (${seconds.toFixed(0)} s)`,
  );
} else {
  log(
    `partial run (BENCH_PARTS): results printed, files not written (BENCH_WRITE=1 to write) (${seconds.toFixed(0)} s)`,
  );
}
