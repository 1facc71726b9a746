/**
 * Preloaded (`node --import`) into every server under test (the gateway as `npm start` starts it,
 * the peer, the memory-store gateway): answers the runner's commands over the IPC channel, so
 * that nothing the bench needs sits on the request path being measured, and tells the runner the
 * server is ready once `BENCH_PROBE_PORT` accepts connections. Plain JavaScript, so that it adds
 * no TypeScript loader to a process that has none (the peer).
 *
 * Commands: `cpu` (user + system µs so far), `mem` (after a full GC when `--expose-gc`), `rss`,
 * `sampleStart` / `sampleStop` (peak heap: sampled every 2 ms and read before every GC; the
 * largest heap left after a GC; peak RSS; GCs by type), `segmentsStart` / `segmentsStop` (for
 * one request in flight at a time: where each request's time went, from Node's and undici's own
 * diagnostics channels, so any Node server can be measured without changing its code; see
 * bench/segments.ts), `allocStart` / `allocStop` (V8's sampling heap profiler, counting what was
 * collected too: the bytes allocated and by which functions and packages).
 */
import dc from 'node:diagnostics_channel';
import { Session } from 'node:inspector';
import { connect } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
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
 * Per request (one in flight at a time): `pre` from its headers parsed (`http.server.request.start`)
 * to its first upstream request's headers written (`undici:client:sendHeaders`), `upstream` until
 * that answer's last byte (`undici:request:trailers`), `post` from there to the response handed to
 * the kernel (`http.server.response.finish`). A GC pause (perf_hooks) counts for the request it
 * delayed: one that fell between an answer and the next request's headers delayed that request,
 * one that fell while its upstream call was out did not.
 */
/** perf_hooks' GC kinds (`PerformanceEntry.detail.kind`) by name. */
const GC_KINDS = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weak callbacks' };

const segments = {
  rows: [],
  gcs: [],
  current: null,
  listeners: null,
  observer: null,
};
const SEGMENT_CHANNELS = {
  'http.server.request.start': () => {
    segments.current = { start: performance.now(), sent: 0, answered: 0 };
  },
  'undici:client:sendHeaders': () => {
    const c = segments.current;
    if (c && !c.sent) {
      c.sent = performance.now();
    }
  },
  'undici:request:trailers': () => {
    const c = segments.current;
    if (c?.sent && !c.answered) {
      c.answered = performance.now();
    }
  },
  'http.server.response.finish': () => {
    const c = segments.current;
    if (c) {
      c.end = performance.now();
      segments.rows.push(c);
      segments.current = null;
    }
  },
};
/** The inspector session of `allocStart` / `allocStop` (one at a time). */
let allocSession = null;
const post = (session, method, params = {}) =>
  new Promise((resolve, reject) =>
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );
/** `node_modules/<package>` or the file path of a call frame (native and V8 frames by name). */
const frameOwner = (frame) => {
  const url = frame.url ?? '';
  if (url === '') {
    return `(${frame.functionName || 'native'})`;
  }
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  return m ? m[1] : url.replace(/^file:\/\//, '').replace(process.cwd(), '.');
};

Object.assign(handlers, {
  /**
   * Samples allocations every `interval` bytes (default 8 KiB). `collected`: `true` counts every
   * allocation; `'old'` leaves out what a scavenge collected (what was promoted or allocated in
   * the old generation, collected later or not); `false` counts only what is still in the heap.
   */
  allocStart: async ({ interval = 8192, collected = true } = {}) => {
    allocSession = new Session();
    allocSession.connect();
    await post(allocSession, 'HeapProfiler.enable');
    await post(allocSession, 'HeapProfiler.startSampling', {
      samplingInterval: interval,
      includeObjectsCollectedByMajorGC: collected !== false,
      includeObjectsCollectedByMinorGC: collected === true,
    });
    return true;
  },
  /** Bytes sampled since `allocStart`, in all and by the allocating function and its owner. */
  allocStop: async ({ top = 25 } = {}) => {
    const session = allocSession;
    allocSession = null;
    if (!session) {
      return null;
    }
    const { profile } = await post(session, 'HeapProfiler.stopSampling');
    await post(session, 'HeapProfiler.disable');
    session.disconnect();
    const byFunction = new Map();
    const byOwner = new Map();
    let total = 0;
    const walk = (node) => {
      if (node.selfSize > 0) {
        const f = node.callFrame;
        const owner = frameOwner(f);
        const name = `${f.functionName || '(anonymous)'} ${owner}:${f.lineNumber + 1}`;
        byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
        byOwner.set(owner, (byOwner.get(owner) ?? 0) + node.selfSize);
        total += node.selfSize;
      }
      for (const child of node.children ?? []) {
        walk(child);
      }
    };
    walk(profile.head);
    const largest = (m) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, bytes]) => ({ name, bytes }));
    return { total, byFunction: largest(byFunction), byOwner: largest(byOwner) };
  },
  segmentsStart: () => {
    segments.rows = [];
    segments.gcs = [];
    if (!segments.listeners) {
      segments.listeners = Object.entries(SEGMENT_CHANNELS);
      for (const [name, fn] of segments.listeners) {
        dc.subscribe(name, fn);
      }
      segments.observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          segments.gcs.push({
            at: e.startTime,
            ms: e.duration,
            kind: GC_KINDS[e.detail?.kind] ?? 'other',
          });
        }
      });
      segments.observer.observe({ entryTypes: ['gc'] });
    }
    return true;
  },
  segmentsStop: () => {
    for (const [name, fn] of segments.listeners ?? []) {
      dc.unsubscribe(name, fn);
    }
    segments.observer?.disconnect();
    segments.listeners = null;
    // A pause counts for the request it delayed: from the previous answer (a request arriving
    // while the process collects waits in the socket before its headers are parsed) to its own.
    const rows = [];
    let previousEnd = null;
    for (const r of segments.rows) {
      const from = previousEnd ?? r.start;
      previousEnd = r.end;
      if (!r.sent || !r.answered) {
        continue;
      }
      // Not while the upstream call was out: a pause then delayed nothing unless it outlasted it.
      const delaying = segments.gcs.filter(
        (g) => (g.at + g.ms > from && g.at < r.sent) || (g.at + g.ms > r.answered && g.at < r.end),
      );
      const gc = delaying.reduce((sum, g) => sum + g.ms, 0);
      rows.push({
        pre: r.sent - r.start,
        upstream: r.answered - r.sent,
        post: r.end - r.answered,
        gc,
        gcKinds: delaying.map((g) => g.kind),
      });
    }
    return { rows, gcs: segments.gcs };
  },
});

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
