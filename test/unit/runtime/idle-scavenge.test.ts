import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HTTP_OPTIONS } from '../../../src/config.js';
import { createHttpClient } from '../../../src/http/client.js';
import type { GcFunction } from '../../../src/runtime/gc.js';
import { IdleScavenger, idleScavenger } from '../../../src/runtime/idle-scavenge.js';

/** A scavenger whose collections are recorded instead of run. */
function recording(fill: number) {
  const calls: Array<Parameters<GcFunction>[0]> = [];
  const scavenger = new IdleScavenger({
    fill,
    afterMs: 1,
    gc: () => (options) => {
      calls.push(options);
    },
  });
  return { scavenger, calls };
}

describe('IdleScavenger', () => {
  it('scavenges (a minor collection) while one call is out alone past afterMs', async () => {
    const { scavenger, calls } = recording(0);
    const id = scavenger.began();
    await sleep(15);
    scavenger.ended(id);
    expect(calls).toEqual([{ type: 'minor' }]);
    expect(scavenger.stats()).toEqual({ waited: 1, scavenges: 1 });
  });

  it('does nothing while two calls are out (load: no idle time to use)', async () => {
    const { scavenger, calls } = recording(0);
    const a = scavenger.began();
    const b = scavenger.began();
    await sleep(15);
    scavenger.ended(b);
    // The call left alone began beside another: still not a lone call.
    await sleep(15);
    scavenger.ended(a);
    expect(calls).toEqual([]);
    expect(scavenger.stats()).toEqual({ waited: 0, scavenges: 0 });
  });

  it('does nothing for a call answered before afterMs, nor for the next call', async () => {
    const { scavenger, calls } = recording(0);
    const first = scavenger.began();
    scavenger.ended(first);
    const second = scavenger.began();
    scavenger.ended(second);
    await sleep(15);
    expect(calls).toEqual([]);
    // A later lone call is looked at again.
    const third = scavenger.began();
    await sleep(15);
    scavenger.ended(third);
    expect(calls).toHaveLength(1);
  });

  it('leaves a young generation below `fill` alone (looked at, not collected)', async () => {
    const { scavenger, calls } = recording(1.01);
    const id = scavenger.began();
    await sleep(15);
    scavenger.ended(id);
    expect(calls).toEqual([]);
    expect(scavenger.stats()).toEqual({ waited: 1, scavenges: 0 });
  });

  it("with V8's own gc: a scavenge runs while the call is out and empties the young generation", async () => {
    const seen: string[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        seen.push(
          (e as unknown as { detail?: { kind?: number } }).detail?.kind === 1 ? 'minor' : 'other',
        );
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!;
    const scavenger = new IdleScavenger({ fill: 0, afterMs: 1 });
    // Garbage in the young generation (short-lived objects, nothing kept).
    let sink = 0;
    for (let i = 0; i < 20_000; i++) {
      sink += { i, s: `x${i}` }.s.length;
    }
    expect(sink).toBeGreaterThan(0);
    const before = young().space_used_size;
    const id = scavenger.began();
    await sleep(20);
    const after = young().space_used_size;
    scavenger.ended(id);
    await sleep(5);
    observer.disconnect();
    expect(scavenger.stats().scavenges).toBe(1);
    expect(seen).toContain('minor');
    // What is left is what survived, not the garbage made above (~1 MB of short-lived objects).
    expect(after).toBeLessThan(before / 2);
  });
});

describe('provider calls report to the process scavenger', () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 20);
      req.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('a lone 20 ms call is waited on; two at once are not', async () => {
    const client = createHttpClient({
      provider: 'NOTIFUSE',
      baseUrl: origin,
      http: DEFAULT_HTTP_OPTIONS,
    });
    try {
      const before = idleScavenger.stats().waited;
      await client.request({ method: 'GET', path: '/slow' });
      expect(idleScavenger.stats().waited).toBe(before + 1);
      await Promise.all([
        client.request({ method: 'GET', path: '/slow' }),
        client.request({ method: 'GET', path: '/slow' }),
      ]);
      expect(idleScavenger.stats().waited).toBe(before + 1);
    } finally {
      await client.close();
    }
  });
});
