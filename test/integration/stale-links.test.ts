import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../helpers/gateway.js';
import { readOne, upsertOne } from '../helpers/operations.js';

/**
 * #15 item 8 (second half): a read that finds nothing at a provider for a linked contact (404 for
 * its remote id) reports it in `readErrors` as NOT_FOUND and marks the link stale, instead of
 * serving the gateway's cached view as if the provider still held the contact.
 */
const UPSERT = upsertOne(
  'contact { id records { provider remoteId } } outcomes { provider status }',
);
const READ = readOne(
  'id email firstName records { provider remoteId stale } readErrors { provider error { code httpStatus retryable message } }',
);

interface Read {
  contact: {
    id: string;
    email: string | null;
    firstName: string | null;
    records: Array<{ provider: string; remoteId: string; stale: boolean }>;
    readErrors: Array<{
      provider: string;
      error: { code: string; httpStatus: number | null; retryable: boolean; message: string };
    }>;
  } | null;
}

const t = useTestGateway({ RETRY_MAX_ATTEMPTS: '1', GATEWAY_OUTBOX: 'off' });

async function linked(provider: string, email: string, statuses = ['CREATED']) {
  const res = await t.gql<{
    upsertContact: {
      contact: { id: string; records: Array<{ provider: string; remoteId: string }> };
      outcomes: Array<{ provider: string; status: string }>;
    };
  }>(UPSERT, { input: { email, firstName: 'Cached' }, options: { providers: [provider] } });
  expect(res.errors).toBeUndefined();
  const [outcome] = res.data.upsertContact.outcomes;
  expect(outcome!.provider).toBe(provider);
  expect(statuses).toContain(outcome!.status);
  const { id, records } = res.data.upsertContact.contact;
  return { id, remoteId: records.find((r) => r.provider === provider)!.remoteId };
}

async function read(id: string) {
  const res = await t.gql<Read>(READ, { id });
  expect(res.errors).toBeUndefined();
  return res.data.contact!;
}

const CASES: Array<{ provider: string; remove: (remoteId: string, email: string) => void }> = [
  {
    provider: 'DIGITAL_ONBOARDING',
    remove: (remoteId) => expect(t.digitalOnboarding.store.delete(remoteId)).toBe(true),
  },
  {
    provider: 'NOTIFUSE',
    remove: (_remoteId, email) => expect(t.notifuse.store.delete(email)).toBe(true),
  },
  {
    provider: 'DOTDIGITAL',
    remove: (remoteId) =>
      expect(t.dotdigital.store.delete('contactId', Number(remoteId))).toBe(Number(remoteId)),
  },
  {
    provider: 'SALESFORCE_MC',
    remove: (remoteId) => expect(t.salesforceMc.store.deleteKeys([remoteId])).toBe(1),
  },
];

describe('a linked contact the provider no longer has', () => {
  for (const { provider, remove } of CASES) {
    it(`${provider}: readErrors NOT_FOUND and the link marked stale`, async () => {
      const email = `gone-${provider.toLowerCase()}@example.com`;
      const { id, remoteId } = await linked(provider, email);
      const before = await read(id);
      expect(before.readErrors).toEqual([]);
      expect(before.records).toEqual([{ provider, remoteId, stale: false }]);

      remove(remoteId, email);
      const after = await read(id);
      expect(after.readErrors).toEqual([
        {
          provider,
          error: expect.objectContaining({ code: 'NOT_FOUND', retryable: false }),
        },
      ]);
      expect(after.readErrors[0]!.error.message).toContain('stale');
      expect(after.records).toEqual([{ provider, remoteId, stale: true }]);

      // The contact is written again: the link is fresh.
      // (Dotdigital takes a binned contact out of the recycle bin: UPDATED.)
      await linked(provider, email, ['CREATED', 'UPDATED']);
      const again = await read(id);
      expect(again.readErrors).toEqual([]);
      expect(again.records.map((r) => [r.provider, r.stale])).toEqual([[provider, false]]);
    });
  }
});
