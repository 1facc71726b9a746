/**
 * The fast lane's request signal (ClientGone): the part of an AbortSignal the gateway uses, with
 * the semantics an AbortSignal has for it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ClientGone } from '../../src/http-server/lane.js';

describe('ClientGone', () => {
  it('calls each abort listener once, functions and handleEvent objects, with an abort event', () => {
    const signal = new ClientGone();
    const seen: string[] = [];
    const fn = (event: { type: string; target: unknown }) => {
      seen.push(`fn ${event.type} ${event.target === signal}`);
    };
    const handler = {
      handleEvent(event: { type: string }) {
        seen.push(`handler ${event.type}`);
      },
    };
    signal.addEventListener('abort', fn);
    signal.addEventListener('abort', fn, { once: true });
    signal.addEventListener('abort', handler, { once: true });
    signal.addEventListener('other', () => seen.push('other'));
    signal.onabort = () => seen.push('onabort');
    expect(signal.aborted).toBe(false);
    expect(() => signal.throwIfAborted()).not.toThrow();
    signal.abort();
    signal.abort();
    expect(seen).toEqual(['onabort', 'fn abort true', 'handler abort']);
    expect(signal.aborted).toBe(true);
    expect((signal.reason as DOMException).name).toBe('AbortError');
    expect(() => signal.throwIfAborted()).toThrow(/aborted/);
  });

  it('does not call a listener removed before the abort', () => {
    const signal = new ClientGone();
    const calls: string[] = [];
    const kept = () => calls.push('kept');
    const removed = { handleEvent: () => calls.push('removed') };
    signal.addEventListener('abort', removed);
    signal.addEventListener('abort', kept);
    signal.removeEventListener('abort', removed);
    signal.removeEventListener('abort', () => calls.push('never added'));
    signal.abort();
    expect(calls).toEqual(['kept']);
  });

  it('cancels a timers/promises wait it is given, as an AbortSignal does', async () => {
    const signal = new ClientGone();
    const waiting = sleep(10_000, 'done', { signal: signal as unknown as AbortSignal });
    signal.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    // A wait that ends first removes its listener: a later abort reaches nothing.
    const other = new ClientGone();
    let called = 0;
    other.addEventListener('abort', () => {
      called += 1;
    });
    expect(await sleep(1, 'done', { signal: other as unknown as AbortSignal })).toBe('done');
    other.abort();
    expect(called).toBe(1);
  });
});
