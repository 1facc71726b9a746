import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { periodDrift } from '../../bench/lib/stats.js';
import { startFlags } from '../../bench/lib/suts.js';

/** 50 repeats of a sawtooth of period 10 (RSS growing between forced GCs), plus `trend` per repeat, starting at `phase`. */
const sawtooth = (phase: number, trend: number) =>
  Array.from({ length: 50 }, (_, i) => 220 + ((i + phase) % 10) * 3 + i * trend);

describe("the memory part's RSS drift", () => {
  it('is zero for a sawtooth without a trend, wherever the series starts in its period', () => {
    for (let phase = 0; phase < 10; phase += 1) {
      expect(periodDrift(sawtooth(phase, 0), 10)).toBe(0);
    }
  });

  it('is the trend over the periods between the two medians for a sawtooth with one', () => {
    // 0.1 MB per repeat; the medians are 20 repeats apart.
    for (let phase = 0; phase < 10; phase += 1) {
      expect(periodDrift(sawtooth(phase, 0.1), 10)).toBeCloseTo(2, 5);
    }
  });

  it('falls back to quarters for fewer than three whole periods', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i);
    expect(periodDrift(xs, 10)).toBe(10);
  });
});

describe("the bench's command for a checkout's gateway", () => {
  it("takes the Node flags of the checkout's npm start, not its tsx loader", () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-flags-'));
    try {
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({
          scripts: { start: 'node --max-semi-space-size=32 --import tsx src/server.ts' },
        }),
      );
      expect(startFlags(dir)).toEqual(['--max-semi-space-size=32']);
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ scripts: { start: 'tsx src/server.ts' } }),
      );
      expect(() => startFlags(dir)).toThrow(/npm start/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is plain `node --import tsx src/server.ts` here', () => {
    expect(startFlags('.')).toEqual([]);
  });
});
