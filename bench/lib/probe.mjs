/**
 * Preloaded (`node --import`) into every server under test (the gateway as `npm start` starts it,
 * the peer, the memory-store gateway): answers the runner's commands over the IPC channel, so
 * that nothing the bench needs sits on the request path being measured, and tells the runner the
 * server is ready once `BENCH_PROBE_PORT` accepts connections. Plain JavaScript, so that it adds
 * no TypeScript loader to a process that has none (the peer).
 *
 * Commands: `cpu` (user + system µs so far), `mem` (after a full GC when `--expose-gc`), `rss`,
 * `sampleStart` / `sampleStop` (peak heap: sampled every 2 ms and read before every GC; the
 * largest heap left after a GC; peak RSS; GCs by type).
 */
import { connect } from 'node:net';
import { GCProfiler, getHeapStatistics } from 'node:v8';

const port = Number(process.env.BENCH_PROBE_PORT);
const gc = globalThis.gc;
const heapUsed = () => getHeapStatistics().used_heap_size;

let sampler;
let peak = { heapUsed: 0, rss: 0 };
let profiler;

const handlers = {
  cpu: () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  },
  mem: () => {
    if (gc) {
      gc();
      gc();
    }
    const m = process.memoryUsage();
    return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, gcForced: gc !== undefined };
  },
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
    const byType = {};
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
};

/**
 * Answers the runner's commands over the IPC channel: `extra` and the built-in ones above. The
 * runner going away (Ctrl-C, crash) takes the process with it. Also used by bench/lib/child.ts.
 * @param {Record<string, (args: Record<string, unknown>) => unknown>} extra
 */
export function answerCommands(extra = {}) {
  const all = { ...handlers, ...extra };
  process.on('message', (raw) => {
    if (!raw || typeof raw.cmd !== 'string') {
      return;
    }
    void (async () => {
      let reply;
      try {
        const handler = all[raw.cmd];
        if (!handler) {
          throw new Error(`unknown command ${raw.cmd}`);
        }
        reply = { id: raw.id, ok: true, result: await handler(raw.args ?? {}) };
      } catch (err) {
        reply = { id: raw.id, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
      process.send?.(reply);
    })();
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.send && port > 0) {
  answerCommands();
  // Ready once the port accepts a connection (the server listens after its stores are open).
  const started = Date.now();
  const tryConnect = () => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      process.send?.({ ready: { port, startMs: Date.now() - started } });
    });
    socket.once('error', () => {
      socket.destroy();
      setTimeout(tryConnect, 25).unref();
    });
  };
  // Not before the main module runs: the first attempt waits one tick of timers.
  setTimeout(tryConnect, 25).unref();
}
