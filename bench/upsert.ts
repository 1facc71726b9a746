/**
 * Throughput of writes through the whole gateway (yoga.fetch → service → DataLoader → undici →
 * Notifuse sandbox on loopback), batched vs one mutation per contact, in the same process.
 *
 *   npm run bench                 # N=1000, latencies 0 and 20 ms
 *   BENCH_N=5000 npm run bench
 */
import { createGateway } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startSandboxes } from '../src/sandbox-mode.js';

const N = Number(process.env['BENCH_N'] ?? 1000);
const LATENCIES = (process.env['BENCH_LATENCIES'] ?? '0,20').split(',').map(Number);

const sandboxes = await startSandboxes(loadConfig({ LOG_LEVEL: 'silent' }));
const gateway = createGateway(sandboxes.config, {
  logger: createLogger('silent'),
  sandboxed: sandboxes.sandboxed,
});
const notifuse = sandboxes.sandboxes[0]!.sandbox;

async function gql(query: string, variables: Record<string, unknown>) {
  const res = await gateway.yoga.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: unknown; errors?: unknown };
  if (body.errors) {
    throw new Error(JSON.stringify(body.errors));
  }
  return body.data as Record<string, unknown>;
}

const inputs = (tag: string) =>
  Array.from({ length: N }, (_, i) => ({
    email: `${tag}-${i}@bench.example.com`,
    firstName: `First${i}`,
    lastName: 'Bench',
    address: { country: 'GB', postalCode: 'NW1' },
  }));

async function timed(fn: () => Promise<void>) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const rows: string[][] = [];
for (const latency of LATENCIES) {
  notifuse.controls.reset();
  notifuse.controls.setLatency(latency);
  // Warm-up: JIT, connections.
  await gql('mutation($i:[ContactInput!]!){ upsertContacts(inputs:$i){ summary { succeeded } } }', {
    i: inputs(`warm${latency}`).slice(0, 50),
  });
  notifuse.controls.clearRequests();

  const single = inputs(`single${latency}`);
  const baselineMs = await timed(async () => {
    for (const input of single) {
      await gql('mutation($i:ContactInput!){ upsertContact(input:$i){ outcomes { status } } }', {
        i: input,
      });
    }
  });
  const baselineCalls = notifuse.controls.requestCount();
  notifuse.controls.clearRequests();

  let summary: Record<string, number> = {};
  const batchMs = await timed(async () => {
    const data = await gql(
      'mutation($i:[ContactInput!]!){ upsertContacts(inputs:$i){ summary { total succeeded failed upstreamRequests } } }',
      { i: inputs(`batch${latency}`) },
    );
    summary = (data['upsertContacts'] as { summary: Record<string, number> }).summary;
  });
  if (summary['succeeded'] !== N) {
    throw new Error(`batch did not succeed: ${JSON.stringify(summary)}`);
  }
  const batchCalls = notifuse.controls.requestCount();

  rows.push([
    `${latency} ms`,
    `${N}`,
    `${(N / (baselineMs / 1000)).toFixed(0)}/s (${baselineCalls} calls, ${baselineMs.toFixed(0)} ms)`,
    `${(N / (batchMs / 1000)).toFixed(0)}/s (${batchCalls} calls, ${batchMs.toFixed(0)} ms)`,
    `${(baselineMs / batchMs).toFixed(1)}×`,
  ]);
}

console.log(`node ${process.version}, ${N} contacts per run, Notifuse sandbox on loopback`);
console.log(
  '| provider latency | N | baseline: one upsertContact per contact | upsertContacts | speed-up |',
);
console.log('|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.join(' | ')} |`);
}
await gateway.close();
await sandboxes.close();
