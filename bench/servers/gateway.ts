/**
 * The gateway as `npm start` runs it (node:http `createServer(gateway.yoga)`), on a free loopback
 * port, configured only from `BENCH_GATEWAY_ENV` (JSON) so that provider credentials or API keys
 * in the caller's shell never leak in. Commands: `mem` (after a full GC when `--expose-gc`),
 * `sampleStart` / `sampleStop` (peak heap: sampled every 2 ms and read before every GC; the
 * largest heap left after a GC; peak RSS; GCs by type).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { serveCommands } from '../lib/child.js';

/**
 * The source tree to build the gateway from: this checkout, or `BENCH_SRC_ROOT` (another checkout
 * or worktree sharing these node_modules: a change measured against the current code in the
 * same session, see BENCH_COMPARE).
 */
const root = process.env['BENCH_SRC_ROOT']
  ? pathToFileURL(`${process.env['BENCH_SRC_ROOT'].replace(/\/+$/, '')}/`).href
  : new URL('../../', import.meta.url).href;
const { createGateway } = (await import(`${root}src/app.js`)) as typeof import('../../src/app.js');
const { loadConfig } = (await import(
  `${root}src/config.js`
)) as typeof import('../../src/config.js');
const { createLogger } = (await import(
  `${root}src/logger.js`
)) as typeof import('../../src/logger.js');

const env = JSON.parse(process.env['BENCH_GATEWAY_ENV'] ?? '{}') as Record<string, string>;
const config = loadConfig({ LOG_LEVEL: 'silent', ...env });

/**
 * `BENCH_STORE=memory` (default): createGateway's in-memory stores. `embedded`: the durable stores
 * `npm start` opens (`src/store/open.ts`), in a fresh temporary directory. Loaded by path at run
 * time so the bench does not depend on that module's shape when it is not asked for.
 */
async function stores(): Promise<{ stores?: unknown; dir?: string }> {
  if ((process.env['BENCH_STORE'] ?? 'memory') !== 'embedded') {
    return {};
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
  const open = (await import(`${root}src/store/open.js`)) as {
    openStores(storage: unknown): Promise<unknown>;
  };
  const storage = (config as unknown as { storage: Record<string, unknown> }).storage;
  return { stores: await open.openStores({ ...storage, dataDir: dir }), dir };
}
const durable = await stores();
const gateway = createGateway(config, {
  logger: createLogger(config.logLevel, undefined, 'json'),
  ...(durable.stores ? ({ stores: durable.stores } as object) : {}),
});
process.on('exit', () => {
  if (durable.dir) {
    rmSync(durable.dir, { recursive: true, force: true });
  }
});
const server = createServer(gateway.yoga);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

const gc = (globalThis as { gc?: () => void }).gc;
const heapUsed = () => getHeapStatistics().used_heap_size;

function memory() {
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, gcForced: gc !== undefined };
}

let sampler: NodeJS.Timeout | undefined;
let peak = { heapUsed: 0, rss: 0 };
let profiler: GCProfiler | undefined;

serveCommands(
  {
    mem: () => memory(),
    rss: () => ({ rss: process.memoryUsage.rss() }),
    sampleStart: () => {
      peak = { heapUsed: heapUsed(), rss: process.memoryUsage.rss() };
      profiler = new GCProfiler();
      profiler.start();
      clearInterval(sampler);
      sampler = setInterval(() => {
        peak.heapUsed = Math.max(peak.heapUsed, heapUsed());
        peak.rss = Math.max(peak.rss, process.memoryUsage.rss());
      }, 2);
      return true;
    },
    sampleStop: () => {
      clearInterval(sampler);
      const gcs = profiler?.stop()?.statistics ?? [];
      // The heap peaks right before a GC; right after one it holds what the request still uses
      // (plus, after a scavenge, old-space garbage not collected yet).
      const before = Math.max(0, ...gcs.map((g) => g.beforeGC.heapStatistics.usedHeapSize));
      const after = Math.max(0, ...gcs.map((g) => g.afterGC.heapStatistics.usedHeapSize));
      const byType: Record<string, number> = {};
      for (const g of gcs) {
        byType[g.gcType] = (byType[g.gcType] ?? 0) + 1;
      }
      return {
        heapUsed: Math.max(peak.heapUsed, before, heapUsed()),
        liveHeap: after,
        rss: Math.max(peak.rss, process.memoryUsage.rss()),
        gcs: byType,
      };
    },
  },
  { port: (server.address() as AddressInfo).port },
);
