/**
 * Issue #5: how each kind of upstream fault looks to a client of the gateway, for all four
 * providers. Every test goes GraphQL (yoga.fetch) → gateway → undici → a loopback sandbox that
 * injects the fault on the provider's write path, and asserts what the client reads (status,
 * attempts, retryable, code, httpStatus) and what the sandbox received and stored.
 */

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Fault } from '../../../src/sandbox/shared/types.js';

import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { CASES, gaps, note, POLICY_ONLY, printNotes, received, upsert } from './support.js';

const MAX_ATTEMPTS = 3;
/**
 * Per attempt. Long enough that an answer the sandbox gives at once is never cut off on a loaded
 * machine (a cut-off retry would make 3 attempts); the slow-answer case holds its request forever.
 */
const TIMEOUT_MS = 1_000;
/**
 * The whole call's budget. Far above what the retrying cases need on an idle machine (503 twice:
 * three attempts and two short backoffs; 429: a one-second wait) so that a loaded machine cannot
 * run them out of it: a case cut off by the deadline also leaves an attempt in flight that meets
 * the next case's faults on a shared path.
 */
const DEADLINE_MS = 10_000;
/** A Retry-After (seconds) longer than the whole deadline. */
const BEYOND_DEADLINE_S = DEADLINE_MS / 1000 + 5;

let t: TestGateway;

beforeAll(async () => {
  const perProvider = Object.fromEntries(
    CASES.flatMap((c) => [
      [`${c.prefix}_TIMEOUT_MS`, String(TIMEOUT_MS)],
      // No client-side rate limit: these tests measure the provider's own waits.
      [`${c.prefix}_RATE_PER_SECOND`, '0'],
    ]),
  );
  t = await createTestGateway({
    ...POLICY_ONLY,
    RETRY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    RETRY_BASE_DELAY_MS: '10',
    RETRY_MAX_DELAY_MS: '50',
    CALL_DEADLINE_MS: String(DEADLINE_MS),
    // The breaker has its own file; here a run of failures must not open it between tests.
    BREAKER_THRESHOLD: '1000',
    // One request per SFMC write: the key look-up before a create (SFMC_KEY_LOOKUP) would meet the
    // faults meant for the write; it is pinned in test/integration/providers/salesforce-mc/rules.test.ts.
    SFMC_KEY_LOOKUP: 'off',
    ...perProvider,
  });
});
afterAll(async () => {
  printNotes('faults');
  await t?.close();
});

// The four providers run side by side (their own sandbox, pool and breaker; the tests mostly wait
// on Retry-After and timeouts); the tests of one provider run one after another, as they share its
// sandbox's fault rules and request log.
describe.concurrent.each(CASES)('$id', (c) => {
  describe.sequential('faults', () => {
    const sandbox = () => c.sandbox(t);
    const writes = (email: string) => received(sandbox(), c.method, c.path(email));
    const inject = (email: string, ...faults: Fault[]) =>
      sandbox().controls.inject({ method: c.method, path: c.path(email), faults });
    let email: string;
    let sizeBefore: number;

    beforeEach(() => {
      sandbox().controls.reset();
      email = `${c.id.toLowerCase().replace('_', '-')}-${randomUUID().slice(0, 8)}@example.com`;
      sizeBefore = sandbox().store.size;
    });

    it('503 twice, then success: CREATED after 3 attempts, 3 writes received, one contact stored', async () => {
      inject(
        email,
        { kind: 'status', status: 503, body: { error: 'unavailable' } },
        { kind: 'status', status: 503, body: { error: 'unavailable' } },
      );
      const { byProvider } = await upsert(t, { email, firstName: 'Retry' }, [c.id]);
      expect(byProvider[c.id]).toMatchObject({ status: 'CREATED', attempts: 3, error: null });
      expect(writes(email)).toHaveLength(3);
      expect(sandbox().store.size).toBe(sizeBefore + 1);
      expect(c.holds(t, email)).toBe(true);
      note({ provider: c.id, fault: '503 ×2', attempts: 3, gapsMs: gaps(writes(email)) });
    });

    it('429 with Retry-After: 1 → the retry arrives ≥ 1000 ms after the first attempt', async () => {
      inject(email, c.tooMany(1));
      const { byProvider } = await upsert(t, { email }, [c.id]);
      expect(byProvider[c.id]).toMatchObject({ status: 'CREATED', attempts: 2, error: null });
      const [first, retry] = writes(email);
      expect(writes(email)).toHaveLength(2);
      const waited = retry!.at - first!.at;
      expect(waited).toBeGreaterThanOrEqual(1000);
      expect(sandbox().store.size).toBe(sizeBefore + 1);
      note({ provider: c.id, fault: '429 Retry-After 1', attempts: 2, waitedMs: waited });
    });

    it(`connection reset after the write was stored: the retry is the same write, one contact, ${c.afterLostAnswer}`, async () => {
      inject(email, { kind: 'reset-after-commit' });
      const { byProvider, payload } = await upsert(t, { email, firstName: 'Lost' }, [c.id]);
      expect(byProvider[c.id]).toMatchObject({
        status: c.afterLostAnswer,
        attempts: 2,
        error: null,
      });
      const [first, retry] = writes(email);
      expect(writes(email)).toHaveLength(2);
      // The retry is the very same request (same body; for Digital Onboarding, same key).
      expect(retry!.rawBody).toBe(first!.rawBody);
      if (c.id === 'DIGITAL_ONBOARDING') {
        expect(first!.headers['idempotency-key']).toBeDefined();
        expect(retry!.headers['idempotency-key']).toBe(first!.headers['idempotency-key']);
      }
      expect(sandbox().store.size).toBe(sizeBefore + 1);
      expect(c.holds(t, email)).toBe(true);
      expect(payload.contact.records).toEqual([
        { provider: c.id, remoteId: byProvider[c.id]!.remoteId },
      ]);
      note({ provider: c.id, fault: 'reset-after-commit', attempts: 2, status: c.afterLostAnswer });
    });

    it(`an answer slower than ${c.prefix}_TIMEOUT_MS is abandoned and retried: CREATED, attempts 2`, async () => {
      // The sandbox never answers the first request (held until the sandbox closes): only the
      // attempt's own timer can end it, so a second attempt proves it was abandoned. It is never
      // handled either, so the retry alone writes the contact.
      inject(email, { kind: 'delay', ms: 600_000 });
      const { byProvider, ms } = await upsert(t, { email, firstName: 'Slow' }, [c.id]);
      expect(byProvider[c.id]).toMatchObject({ status: 'CREATED', attempts: 2, error: null });
      const [first, retry] = writes(email);
      expect(writes(email)).toHaveLength(2);
      // The retry is the same write.
      expect(retry!.rawBody).toBe(first!.rawBody);
      expect(sandbox().store.size).toBe(sizeBefore + 1);
      expect(c.holds(t, email)).toBe(true);
      note({
        provider: c.id,
        fault: `no answer (timeout ${TIMEOUT_MS})`,
        attempts: 2,
        retryArrivedAfterMs: retry!.at - first!.at,
        answeredMs: Math.round(ms),
      });
    });

    it('malformed JSON once → retried → CREATED, attempts 2', async () => {
      inject(email, { kind: 'malformed' });
      const { byProvider } = await upsert(t, { email }, [c.id]);
      expect(byProvider[c.id]).toMatchObject({ status: 'CREATED', attempts: 2, error: null });
      expect(writes(email)).toHaveLength(2);
      expect(sandbox().store.size).toBe(sizeBefore + 1);
      note({ provider: c.id, fault: 'malformed ×1', attempts: 2 });
    });

    it('malformed JSON every time → FAILED UPSTREAM_BAD_RESPONSE, retryable, RETRY_MAX_ATTEMPTS attempts', async () => {
      inject(
        email,
        ...Array.from({ length: MAX_ATTEMPTS }, () => ({ kind: 'malformed' as const })),
      );
      const { byProvider, payload } = await upsert(t, { email }, [c.id]);
      expect(byProvider[c.id]).toMatchObject({
        status: 'FAILED',
        attempts: MAX_ATTEMPTS,
        error: { code: 'UPSTREAM_BAD_RESPONSE', httpStatus: 200, retryable: true },
      });
      expect(writes(email)).toHaveLength(MAX_ATTEMPTS);
      // The malformed answers came from the fault, not the handler: nothing was stored.
      expect(sandbox().store.size).toBe(sizeBefore);
      expect(payload.contact.records).toEqual([]);
      note({ provider: c.id, fault: 'malformed ×3', attempts: MAX_ATTEMPTS, status: 'FAILED' });
    });

    it(`400 → FAILED after one attempt with the provider's status and code (${c.badRequestCode})`, async () => {
      inject(email, c.badRequest);
      const { byProvider } = await upsert(t, { email }, [c.id]);
      expect(byProvider[c.id]).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: { code: c.badRequestCode, httpStatus: 400, retryable: false },
      });
      expect(writes(email)).toHaveLength(1);
      expect(sandbox().store.size).toBe(sizeBefore);
      note({ provider: c.id, fault: '400', attempts: 1, code: c.badRequestCode });
    });

    it('Retry-After longer than what is left of CALL_DEADLINE_MS → no retry, FAILED rate-limited, the wait in details', async () => {
      inject(email, c.tooMany(BEYOND_DEADLINE_S));
      const { byProvider, ms } = await upsert(t, { email }, [c.id]);
      expect(byProvider[c.id]).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: {
          code: c.tooManyCode,
          httpStatus: 429,
          retryable: true,
          details: expect.objectContaining({ retryAfterMs: BEYOND_DEADLINE_S * 1000 }),
        },
      });
      expect(writes(email)).toHaveLength(1);
      // It did not sit out the Retry-After (nor the deadline) before answering.
      expect(ms).toBeLessThan(DEADLINE_MS);
      expect(sandbox().store.size).toBe(sizeBefore);
      note({
        provider: c.id,
        fault: `429 Retry-After ${BEYOND_DEADLINE_S} (deadline ${DEADLINE_MS})`,
        attempts: 1,
        answeredMs: Math.round(ms),
      });
    });
  });
});
