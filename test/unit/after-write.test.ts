import { describe, expect, it } from 'vitest';
import { afterWrite, DEFERRED, runDeferred } from '../../src/http-server/after-write.js';

describe('afterWrite', () => {
  it('runs at once for a request that defers nothing (Yoga, yoga.fetch) or none at all', () => {
    const ran: string[] = [];
    afterWrite({}, () => ran.push('plain request'));
    afterWrite(undefined, () => ran.push('no request'));
    expect(ran).toEqual(['plain request', 'no request']);
  });

  it("holds a deferring request's work until runDeferred, in order; one that throws stops none", () => {
    const request = { [DEFERRED]: [] as Array<() => void> | null };
    const ran: string[] = [];
    const errors: unknown[] = [];
    afterWrite(request, () => ran.push('line'));
    afterWrite(request, () => {
      throw new Error('metric failed');
    });
    afterWrite(request, () => ran.push('metric'));
    expect(ran).toEqual([]);
    runDeferred(request, (err) => errors.push(err));
    expect(ran).toEqual(['line', 'metric']);
    expect(errors).toHaveLength(1);
    // Once run, later work runs at once, and running again repeats nothing.
    afterWrite(request, () => ran.push('late'));
    runDeferred(request, (err) => errors.push(err));
    expect(ran).toEqual(['line', 'metric', 'late']);
  });
});
