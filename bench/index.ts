/**
 * `npm run bench`: how fast the gateway is, and how close to the limits of this machine. Every
 * figure is a ratio against a baseline measured in the same session, interleaved (A/B/A/B,
 * several rounds, warm-up discarded, every response checked). Writes bench/RESULTS.md and
 * bench/latency.svg. Knobs (env): see README "Benchmarks" and `KNOBS` below.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { SANDBOX_CREDENTIALS } from '../src/sandbox-mode.js';
import { type Child, hasTaskset, startChild } from './lib/child.js';
import { gql } from './lib/client.js';
import { machine, quietness } from './lib/machine.js';
import { renderResults } from './lib/report.js';
import { renderChart } from './lib/svg.js';
import { type BatchRow, batchSizes, contacts, runBatch } from './parts/batching.js';
import { type HopResult, PROBE_INPUT, runHop } from './parts/hop.js';
import { type MemoryResult, runMemory } from './parts/memory.js';
import { type LoadStats, runLoad, trivialTargets, upsertTargets } from './parts/throughput.js';
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

export const KNOBS = {
  parts: list('BENCH_PARTS', 'hop,throughput,batching,memory'),
  hopDelays: list('BENCH_HOP_DELAYS', '0,20').map(Number),
  hopRounds: num('BENCH_HOP_ROUNDS', 5),
  /** sequential requests per variant per round, at 0 ms and at a delay above 0 */
  hopBlockFast: num('BENCH_HOP_BLOCK', 1000),
  hopBlockSlow: num('BENCH_HOP_BLOCK_SLOW', 100),
  loadRounds: num('BENCH_LOAD_ROUNDS', 3),
  loadSeconds: num('BENCH_LOAD_SECONDS', 3),
  connections: num('BENCH_CONNECTIONS', 10),
  /** which load tests part 2 runs */
  loads: list('BENCH_LOADS', 'trivial,upsert'),
  batchN: list('BENCH_N', '1,100,10000').map(Number),
  batchDup: num('BENCH_DUP_N', 100),
  memN: num('BENCH_MEM_N', 10_000),
  memRepeats: num('BENCH_MEM_REPEATS', 200),
  memRepeatN: num('BENCH_MEM_REPEAT_N', 200),
  /** providers the memory part writes to (all four by default) */
  memProviders: list('BENCH_MEM_PROVIDERS', 'NOTIFUSE,DOTDIGITAL,SALESFORCE_MC,DIGITAL_ONBOARDING'),
  cpuProf: process.env['BENCH_CPU_PROF'] ?? '',
  /** the gateway's stores: `memory` (createGateway's default) or `embedded` (as npm start) */
  store: process.env['BENCH_STORE'] ?? 'memory',
  /**
   * Another checkout (a git worktree with a change, sharing node_modules): its gateway runs as a
   * fifth variant (`gateway-alt`) in every part, interleaved with this one's.
   */
  compare: process.env['BENCH_COMPARE'] ?? '',
};

const here = fileURLToPath(new URL('.', import.meta.url));

// Pin this process (the probe and autocannon) to core 1 and the servers under test to core 0:
// re-exec under taskset once.
// os.cpus(), not availableParallelism(): once pinned, the latter is 1.
const cores = os.cpus().length;
const pin = hasTaskset() && cores >= 2;
if (pin && process.env['BENCH_PINNED'] !== '1') {
  const res = spawnSync(
    'taskset',
    ['-c', '1', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url)],
    { stdio: 'inherit', env: { ...process.env, BENCH_PINNED: '1' } },
  );
  process.exit(res.status ?? 1);
}
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
process.on('SIGINT', () => {
  void stopAll().then(() => process.exit(130));
});

function profFlags(tag: string): string[] {
  if (!KNOBS.cpuProf) {
    return [];
  }
  // One directory per gateway process; the main thread's profile is the one with `.0.` as
  // thread id in its name (tsx's loader thread writes one too).
  const dir = `${KNOBS.cpuProf}/${tag}`;
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

const origin = (port: number) => `http://127.0.0.1:${port}`;
const want = (part: string) => KNOBS.parts.includes(part);

const results: {
  hop: HopResult[];
  trivial: LoadStats[];
  upsertLoad: LoadStats[];
  batch: BatchRow[];
  memory: MemoryResult | null;
  memoryAlt: MemoryResult | null;
} = { hop: [], trivial: [], upsertLoad: [], batch: [], memory: null, memoryAlt: null };
const altEnv = KNOBS.compare ? { BENCH_SRC_ROOT: KNOBS.compare } : null;

try {
  // ---- parts 1 and 2: one Notifuse sandbox, the gateway with Notifuse only, the baselines ----
  if (want('hop') || want('throughput')) {
    const sb = await start<SandboxInfo[]>('sandboxes', 'sandboxes.ts', {
      cpu: CPU.sandbox,
      env: { BENCH_SANDBOXES: 'NOTIFUSE' },
    });
    const notifuse = sb.ready.find((s) => s.provider === 'NOTIFUSE')!;
    const gw = await start<{ port: number }>('gateway', 'gateway.ts', {
      cpu: CPU.server,
      env: { BENCH_GATEWAY_ENV: JSON.stringify(notifuse.env) },
      nodeFlags: profFlags('gateway-hop'),
    });
    const gwOrigin = origin(gw.ready.port);
    const alt = altEnv
      ? await start<{ port: number }>('gateway-alt', 'gateway.ts', {
          cpu: CPU.server,
          env: { ...altEnv, BENCH_GATEWAY_ENV: JSON.stringify(notifuse.env) },
          nodeFlags: profFlags('gateway-alt-hop'),
        })
      : null;
    const altOrigin = alt ? origin(alt.ready.port) : undefined;

    // The direct call: exactly the request the adapter sends (from a dry run), checked against
    // what the sandbox records for a real write.
    const dry = await gql<{
      upsertContact: { outcomes: Array<{ request: { url: string; body: unknown } }> };
    }>(
      gwOrigin,
      'mutation($i: ContactInput!) { upsertContact(input: $i, options: { dryRun: true }) { outcomes { request } } }',
      { i: PROBE_INPUT },
    );
    const planned = dry.upsertContact.outcomes[0]!.request;
    const url = new URL(planned.url);
    const direct = {
      origin: url.origin,
      path: url.pathname,
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${SANDBOX_CREDENTIALS.notifuse.apiKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(planned.body),
    };
    await gql(
      gwOrigin,
      'mutation($i: ContactInput!) { upsertContact(input: $i) { outcomes { status } } }',
      {
        i: PROBE_INPUT,
      },
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

    const bare = await start<{ port: number }>('bare', 'bare.ts', {
      cpu: CPU.server,
      env: { BENCH_UPSTREAM: JSON.stringify({ url: notifuse.url, ...direct }) },
      nodeFlags: profFlags('bare'),
    });
    const bareOrigin = origin(bare.ready.port);
    const setDelay = async (ms: number) => {
      await sb.call('latency', { provider: 'NOTIFUSE', ms });
      await sb.call('clear');
    };

    if (want('hop')) {
      for (const delayMs of KNOBS.hopDelays) {
        log(`part 1: hop overhead, sandbox delay ${delayMs} ms`);
        results.hop.push(
          await runHop(
            {
              gatewayOrigin: gwOrigin,
              bareOrigin,
              direct,
              setDelay,
              ...(altOrigin ? { altOrigin } : {}),
            },
            {
              delayMs,
              rounds: KNOBS.hopRounds,
              block: delayMs > 0 ? KNOBS.hopBlockSlow : KNOBS.hopBlockFast,
              log,
            },
          ),
        );
        await sb.call('clear');
      }
    }
    if (want('throughput')) {
      await setDelay(0);
      const common = {
        rounds: KNOBS.loadRounds,
        seconds: KNOBS.loadSeconds,
        connections: KNOBS.connections,
        between: async () => {
          await sb.call('clear');
        },
        log,
      };
      const gwServer = { origin: gwOrigin, cpu: () => gw.call<number>('cpu') };
      const bareServer = { origin: bareOrigin, cpu: () => bare.call<number>('cpu') };
      const altServer =
        alt && altOrigin ? { origin: altOrigin, cpu: () => alt.call<number>('cpu') } : undefined;
      if (KNOBS.loads.includes('trivial')) {
        log('part 2: throughput, trivial query');
        results.trivial = await runLoad(trivialTargets(gwServer, bareServer, altServer), {
          ...common,
          label: 'trivial',
        });
      }
      if (KNOBS.loads.includes('upsert')) {
        log('part 2: throughput, upsertContact');
        results.upsertLoad = await runLoad(upsertTargets(gwServer, bareServer, altServer), {
          ...common,
          label: 'upsertContact',
        });
      }
    }
    await stopAll();
  }

  // ---- parts 3 and 4: all four providers, provider rate limits off ----
  if (want('batching') || want('memory')) {
    const sb = await start<SandboxInfo[]>('sandboxes', 'sandboxes.ts', { cpu: CPU.sandbox });
    const envOf = (only?: readonly string[]) =>
      Object.assign(
        {},
        ...sb.ready.filter((s) => !only || only.includes(s.provider)).map((s) => s.env),
      ) as Record<string, string>;
    const providerEnv = envOf();
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
    };
    if (want('batching')) {
      log('part 3: batching');
      const gw = await start<{ port: number }>('gateway', 'gateway.ts', {
        cpu: CPU.server,
        env: { BENCH_GATEWAY_ENV: JSON.stringify(env) },
        nodeFlags: profFlags('gateway-batch'),
      });
      const gateways: Array<[string, Child<{ port: number }>]> = [['', gw]];
      if (altEnv) {
        gateways.push([
          ' (alt)',
          await start<{ port: number }>('gateway-alt', 'gateway.ts', {
            cpu: CPU.server,
            env: { ...altEnv, BENCH_GATEWAY_ENV: JSON.stringify(env) },
            nodeFlags: profFlags('gateway-alt-batch'),
          }),
        ]);
      }
      for (const [suffix, g] of gateways) {
        const gwOrigin = origin(g.ready.port);
        const sizes = await batchSizes(gwOrigin);
        for (const n of KNOBS.batchN) {
          const row = await runBatch(gwOrigin, sb, sizes, {
            label: `N = ${n.toLocaleString('en-US')}${suffix}`,
            inputs: contacts(`batch${n}${suffix ? 'alt' : ''}`, n),
            unique: n,
          });
          results.batch.push(row);
          log(`  ${row.label}: ${row.upstreamRequests} calls in ${row.ms.toFixed(0)} ms`);
        }
        const once = contacts(`dup${suffix ? 'alt' : ''}`, KNOBS.batchDup);
        const twice = [...once, ...once.map((c) => ({ ...c, firstName: `${c.firstName}-again` }))];
        const row = await runBatch(gwOrigin, sb, sizes, {
          label: `${KNOBS.batchDup} contacts × 2${suffix}`,
          inputs: twice,
          unique: KNOBS.batchDup,
        });
        results.batch.push(row);
        log(`  ${row.label}: ${row.upstreamRequests} calls in ${row.ms.toFixed(0)} ms`);
        await g.stop();
      }
    }
    if (want('memory')) {
      const memEnv = JSON.stringify({
        ...env,
        ...Object.fromEntries(Object.keys(providerEnv).map((k) => [k, ''])),
        ...envOf(KNOBS.memProviders),
        DOTDIGITAL_IMPORT_POLL_INTERVAL_MS: '20',
      });
      for (const which of altEnv ? (['', '-alt'] as const) : ([''] as const)) {
        log(`part 4: memory${which ? ' (alt)' : ''}`);
        const gw = await start<{ port: number }>(`gateway${which}`, 'gateway.ts', {
          cpu: CPU.server,
          env: { ...(which ? altEnv : {}), BENCH_GATEWAY_ENV: memEnv },
          nodeFlags: ['--expose-gc', ...profFlags(`gateway${which}-memory`)],
        });
        const m = await runMemory(origin(gw.ready.port), gw, sb, {
          providers:
            KNOBS.memProviders.length === 4 ? 'all four providers' : KNOBS.memProviders.join(', '),
          n: KNOBS.memN,
          repeats: KNOBS.memRepeats,
          repeatN: KNOBS.memRepeatN,
          log,
        });
        if (which) {
          results.memoryAlt = m;
        } else {
          results.memory = m;
        }
        await gw.stop();
      }
    }
    await stopAll();
  }
} finally {
  await stopAll();
}

const seconds = (performance.now() - started) / 1000;
const quietAfter = quietness();
const all = ['hop', 'throughput', 'batching', 'memory'].every(want);
const write = process.env['BENCH_WRITE']
  ? process.env['BENCH_WRITE'] === '1'
  : all && !KNOBS.compare;
const markdown = renderResults({
  machine: info,
  pinned: pin,
  knobs: KNOBS,
  quiet: { before: quietBefore, after: quietAfter },
  seconds,
  ...results,
});
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
