/**
 * The scavenge between requests (src/runtime/idle-gc.ts) and the request tracker that triggers it
 * (src/http-server/lifecycle.ts): when it collects, when it leaves V8 alone, and that with V8's own
 * `gc` the young generation is really emptied.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { trackRequests } from '../../../src/http-server/lifecycle.js';
import { IDLE_SCAVENGE_FRACTION, idleScavenger } from '../../../src/runtime/idle-gc.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function fake(used: number, capacity = 100) {
  const calls: unknown[] = [];
  return {
    calls,
    young: () => ({ used, capacity }),
    gc: (options?: unknown) => {
      calls.push(options);
    },
  };
}

describe('idleScavenger', () => {
  it('scavenges once, on the next turn, when idle and the young generation is half full', async () => {
    const f = fake(100 * IDLE_SCAVENGE_FRACTION);
    const onIdle = idleScavenger({ busy: () => false, young: f.young, gc: f.gc });
    onIdle();
    onIdle();
    onIdle();
    expect(f.calls).toEqual([]); // Not inside the turn that closed the last request.
    await nextTurn();
    expect(f.calls).toEqual([{ type: 'minor' }]);
    onIdle();
    await nextTurn();
    expect(f.calls).toHaveLength(2);
  });

  it('does nothing while a request is in flight at the check, or below the fraction', async () => {
    let busy = false;
    const full = fake(90);
    const onIdle = idleScavenger({ busy: () => busy, young: full.young, gc: full.gc });
    onIdle();
    busy = true; // A request arrived before the check ran.
    await nextTurn();
    expect(full.calls).toEqual([]);

    const light = fake(100 * IDLE_SCAVENGE_FRACTION - 1);
    idleScavenger({ busy: () => false, young: light.young, gc: light.gc })();
    await nextTurn();
    expect(light.calls).toEqual([]);
  });

  it("empties V8's young generation with V8's own gc", async () => {
    const young = () => {
      const s = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space')!;
      return { used: s.space_used_size, capacity: s.space_used_size + s.space_available_size };
    };
    // Garbage until the young generation is past the fraction (V8 may scavenge on its way).
    let sink: unknown;
    for (let i = 0; i < 1e7; i += 1) {
      sink = { i, text: `garbage ${i}` };
      if (i % 1000 === 0) {
        const y = young();
        if (y.used > y.capacity * 0.6) {
          break;
        }
      }
    }
    expect(sink).toBeDefined();
    const before = young();
    expect(before.used).toBeGreaterThan(before.capacity * IDLE_SCAVENGE_FRACTION);
    // Without a gc (where V8 refuses to expose it) nothing happens.
    idleScavenger({ busy: () => false, gc: null })();
    await nextTurn();
    expect(young().used).toBeGreaterThanOrEqual(before.used);
    idleScavenger({ busy: () => false })();
    await nextTurn();
    expect(young().used).toBeLessThan(before.used / 2);
  });
});

describe('trackRequests onIdle', () => {
  it('is called when the last request in flight closes, not while another is in flight', async () => {
    const idle: number[] = [];
    const held: Array<() => void> = [];
    const tracker = trackRequests(
      (_req, res) => {
        held.push(() => res.end('ok'));
      },
      () => idle.push(tracker.inFlight()),
    );
    const server = createServer(tracker.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const first = fetch(url).then((r) => r.text());
      const second = fetch(url).then((r) => r.text());
      while (held.length < 2) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      held[0]!();
      expect(await first).toBe('ok');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(idle).toEqual([]); // One still in flight.
      held[1]!();
      expect(await second).toBe('ok');
      while (idle.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(idle).toEqual([0]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
