/**
 * Issue #5: Salesforce MC's token expiring in the middle of a batch (one refresh, every item
 * written) and the per-provider rate limit (`<P>_RATE_PER_SECOND`) measured at the sandbox.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';
import {
  type Batch,
  gql,
  note,
  POLICY_ONLY,
  printNotes,
  received,
  UPSERT_MANY,
  upsert,
} from './support.js';

const CONTACTS = '/contacts/v1/contacts';
const TOKEN = '/v2/token';
const SF = { providers: ['SALESFORCE_MC'] };

const gateways: TestGateway[] = [];
async function gateway(env: Record<string, string>): Promise<TestGateway> {
  const g = await createTestGateway(
    {
      ...POLICY_ONLY,
      RETRY_BASE_DELAY_MS: '10',
      SFMC_MAX_IN_FLIGHT: '64',
      // One request per SFMC write: these tests count writes and tokens, and the key look-up before
      // a create (SFMC_KEY_LOOKUP) is pinned in test/integration/providers/salesforce-mc/rules.test.ts.
      SFMC_KEY_LOOKUP: 'off',
      ...env,
    },
    { only: ['SALESFORCE_MC'] },
  );
  gateways.push(g);
  return g;
}
afterAll(async () => {
  printNotes('limits');
  await Promise.all(gateways.map((g) => g.close()));
});

describe('Salesforce MC token expiry in the middle of a batch', () => {
  it('exactly one refresh, every item CREATED, the 401ed requests resent with the new token', async () => {
    const t = await gateway({ SFMC_CONCURRENCY: '4', SFMC_RATE_PER_SECOND: '0' });
    // A token to expire later, then a clean log.
    const prime = await upsert(t, { email: 'prime@example.com' }, ['SALESFORCE_MC']);
    expect(prime.byProvider['SALESFORCE_MC']!.status).toBe('CREATED');
    const issued = t.salesforceMc.tokensIssued;
    t.salesforceMc.controls.reset();
    // Each contact request is held 40 ms, so the batch of 20 (4 at a time) takes ~200 ms.
    t.salesforceMc.controls.setLatency(40);

    const inputs = Array.from({ length: 20 }, (_, i) => ({ email: `mid${i}@example.com` }));
    const pending = gql<{ upsertContacts: Batch }>(t, UPSERT_MANY, { inputs, options: SF });
    // Expire every token once the first 6 writes have arrived (4 answered, more in flight).
    for (let i = 0; i < 200 && received(t.salesforceMc, 'POST', CONTACTS).length < 6; i++) {
      await sleep(2);
    }
    const arrivedBeforeExpiry = received(t.salesforceMc, 'POST', CONTACTS).length;
    t.salesforceMc.expireTokens();
    const { items, summary } = (await pending).upsertContacts;

    expect(arrivedBeforeExpiry).toBeGreaterThanOrEqual(6);
    expect(arrivedBeforeExpiry).toBeLessThan(20);
    expect(summary).toMatchObject({ total: 20, succeeded: 20, failed: 0 });
    expect(items.map((i) => i.outcomes[0]!.status)).toEqual(Array(20).fill('CREATED'));
    // One refresh for the whole batch, however many requests met the expired token.
    expect(t.salesforceMc.tokensIssued).toBe(issued + 1);
    expect(received(t.salesforceMc, 'POST', TOKEN)).toHaveLength(1);

    const posts = received(t.salesforceMc, 'POST', CONTACTS);
    const oldToken = posts[0]!.headers['authorization'];
    const withOldToken = posts.filter((r) => r.headers['authorization'] === oldToken).length;
    const newTokens = new Set(
      posts
        .filter((r) => r.headers['authorization'] !== oldToken)
        .map((r) => r.headers['authorization']),
    );
    expect(newTokens.size).toBe(1);
    // The requests still held by the sandbox when the token expired were answered 401 and sent
    // once more with the new token: those items report attempts 2, the others 1.
    const attempts = items.map((i) => i.outcomes[0]!.attempts);
    const retried = attempts.filter((a) => a === 2).length;
    expect(retried).toBeGreaterThanOrEqual(1);
    expect(attempts.every((a) => a === 1 || a === 2)).toBe(true);
    expect(attempts.reduce((a, b) => a + b, 0)).toBe(posts.length);
    expect(posts).toHaveLength(20 + retried);
    for (let i = 0; i < 20; i++) {
      expect(t.salesforceMc.store.get(`mid${i}@example.com`), `mid${i}`).toBeDefined();
    }
    note({
      provider: 'SALESFORCE_MC',
      fault: 'expireTokens() after 6 of 20 arrived',
      tokensIssued: `+${t.salesforceMc.tokensIssued - issued}`,
      sentWithOldToken: withOldToken,
      itemsWithAttempts2: retried,
    });
  });
});

describe('<P>_RATE_PER_SECOND', () => {
  it('SFMC_RATE_PER_SECOND=5: ten single writes reach the sandbox over ≥ ~1 s', async () => {
    const t = await gateway({ SFMC_CONCURRENCY: '10', SFMC_RATE_PER_SECOND: '5' });
    const inputs = Array.from({ length: 10 }, (_, i) => ({ email: `rate${i}@example.com` }));
    const sent = Date.now();
    const { summary, items } = (
      await gql<{ upsertContacts: Batch }>(t, UPSERT_MANY, { inputs, options: SF })
    ).upsertContacts;
    expect(summary).toMatchObject({ total: 10, succeeded: 10, failed: 0 });
    expect(items.every((i) => i.outcomes[0]!.attempts === 1)).toBe(true);

    // Everything the sandbox received: the token request (sent by the first write, after it took
    // the first of the 5 slots of the first second), then the ten writes.
    const all = t.salesforceMc.controls.requests;
    expect(all.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST ${TOKEN}`,
      ...Array(10).fill(`POST ${CONTACTS}`),
    ]);
    const start = all[0]!.at;
    const at = all
      .slice(1)
      .map((r) => r.at)
      .sort((a, b) => a - b);
    const span = at.at(-1)! - start;
    // 10 calls at 5 per second: the sixth cannot start before the first second is over. Measured
    // from the moment the batch was sent (no slot is taken before), so that a loaded machine, which
    // only makes calls later, cannot make the limit look broken: calls 6–10 arrive ≥ 1 s later.
    expect(at.slice(5).every((x) => x - sent >= 950)).toBe(true);
    expect(at.at(-1)! - sent).toBeGreaterThanOrEqual(950);
    note({
      provider: 'SALESFORCE_MC',
      fault: 'RATE_PER_SECOND 5, 10 writes',
      spanMs: span,
      offsetsMs: at.map((x) => x - start),
    });
  });
});
