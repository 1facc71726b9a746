import { afterEach, describe, expect, it, vi } from 'vitest';
import { useTestGateway } from '../helpers/gateway.js';

/**
 * Yoga's parse cache as the gateway configures it: looking a document up arms no timer (lru-cache
 * with a TTL armed a 1 ms one on every lookup, one more event-loop wake-up per request).
 */
const t = useTestGateway({}, { only: ['NOTIFUSE'] });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the parse cache', () => {
  it('arms no timer when a document is asked again', async () => {
    const query = '{ __typename }';
    expect((await t.gql(query)).data).toEqual({ __typename: 'Query' });
    const timers = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 3; i += 1) {
      expect((await t.gql(query)).data).toEqual({ __typename: 'Query' });
    }
    expect(timers.mock.calls.filter(([, ms]) => ms === 1)).toEqual([]);
  });

  it('a document that does not parse is answered from the cache the second time, with the same error', async () => {
    const first = await t.gql('{ broken ');
    const second = await t.gql('{ broken ');
    expect(first.errors).toBeDefined();
    expect(second.errors).toEqual(first.errors);
  });
});
