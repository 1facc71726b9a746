import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { collectGarbage, heapReclaimer } from '../../../src/contacts/reclaim.js';

const used = () => getHeapStatistics().used_heap_size;

describe('heapReclaimer', () => {
  it('collects what a finished slice left once the heap grew past the threshold', () => {
    const reclaim = heapReclaimer(8 * 2 ** 20);
    try {
      // A slice's garbage: objects kept until the slice ends, then dropped.
      let slice: Array<{ n: number; s: string }> | null = [];
      for (let i = 0; i < 300_000; i += 1) {
        slice.push({ n: i, s: `contact-${i}` });
      }
      const grown = used();
      slice = null;
      expect(reclaim.between()).toBe(true);
      expect(used()).toBeLessThan(grown - 8 * 2 ** 20);
    } finally {
      reclaim.stop();
    }
  });

  it('does nothing while the heap has not grown by the threshold', () => {
    const reclaim = heapReclaimer(512 * 2 ** 20);
    try {
      expect(reclaim.between()).toBe(false);
    } finally {
      reclaim.stop();
    }
  });
});

describe('collectGarbage', () => {
  it('collects what is no longer referenced, at once', () => {
    let garbage: Array<{ n: number; s: string }> | null = [];
    for (let i = 0; i < 300_000; i += 1) {
      garbage.push({ n: i, s: `contact-${i}` });
    }
    const grown = used();
    garbage = null;
    expect(collectGarbage()).toBe(true);
    expect(used()).toBeLessThan(grown - 8 * 2 ** 20);
  });
});
