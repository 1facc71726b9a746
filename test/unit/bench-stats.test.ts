import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { periodDrift } from '../../bench/lib/stats.js';
import { startCommand } from '../../bench/lib/suts.js';

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
  const withStart = (start: string, fn: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'start-command-'));
    try {
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { start } }));
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("takes the Node flags and the script of the checkout's npm start", () => {
    withStart('node --max-semi-space-size=32 scripts/start.mjs', (dir) =>
      expect(startCommand(dir)).toEqual({
        flags: ['--max-semi-space-size=32'],
        entry: 'scripts/start.mjs',
        build: true,
      }),
    );
    // A checkout from before the compiled start: its flags, not its tsx loader (given by path).
    withStart('node --max-semi-space-size=32 --import tsx src/server.ts', (dir) =>
      expect(startCommand(dir)).toEqual({
        flags: ['--max-semi-space-size=32'],
        entry: 'src/server.ts',
        build: false,
      }),
    );
    withStart('tsx src/server.ts', (dir) => expect(() => startCommand(dir)).toThrow(/npm start/));
    withStart('node src/other.js', (dir) => expect(() => startCommand(dir)).toThrow(/npm start/));
    withStart('node scripts/start.mjs --inspect', (dir) =>
      expect(() => startCommand(dir)).toThrow(/npm start/),
    );
  });

  it('is plain `node scripts/start.mjs` here', () => {
    expect(startCommand('.')).toEqual({ flags: [], entry: 'scripts/start.mjs', build: true });
  });
});
