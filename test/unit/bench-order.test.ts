import { describe, expect, it } from 'vitest';
import { roundOrder } from '../../bench/lib/stats.js';

describe("the bench's order of variants per round", () => {
  const variants = ['floor', 'yoga', 'gateway', 'gateway-pg', 'mem', 'alt', 'alt-pg', 'peer'];

  it('keeps the given order in the warm-up round and permutes every other round', () => {
    expect(roundOrder(variants, 0)).toEqual(variants);
    for (let round = 1; round <= 12; round += 1) {
      expect([...roundOrder(variants, round)].sort()).toEqual([...variants].sort());
    }
  });

  it('is the same for the same seed and round, and gives each variant changing neighbours', () => {
    expect(roundOrder(variants, 3, 7)).toEqual(roundOrder(variants, 3, 7));
    expect(roundOrder(variants, 3, 7)).not.toEqual(roundOrder(variants, 3, 8));
    // A rotation keeps who runs right before `gateway`; twelve shuffled rounds must not.
    const before = new Set<string>();
    for (let round = 1; round <= 12; round += 1) {
      const order = roundOrder(variants, round, 1);
      const at = order.indexOf('gateway');
      before.add(at === 0 ? '(first)' : order[at - 1]!);
    }
    expect(before.size).toBeGreaterThanOrEqual(4);
  });
});
