import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../helpers/gateway.js';
import { upsertMany } from '../helpers/operations.js';

/**
 * A batch larger than one slice (1,000 distinct writes here: Notifuse 500 and Digital Onboarding
 * 100 per bulk request) is written slice after slice, with the same bulk requests as in one go,
 * every item answered in input order.
 */
const UPSERT_MANY = upsertMany(
  'items { contact { id email } outcomes { provider status } errors { code } } summary { total succeeded failed upstreamRequests }',
);

interface Item {
  contact: { id: string; email: string } | null;
  outcomes: Array<{ provider: string; status: string }>;
  errors: Array<{ code: string }>;
}

let t: TestGateway;
beforeAll(async () => {
  t = await createTestGateway(
    { NOTIFUSE_BATCH_SIZE: '500', DIGITAL_ONBOARDING_BATCH_SIZE: '100' },
    { only: ['NOTIFUSE', 'DIGITAL_ONBOARDING'] },
  );
}, 60_000);
afterAll(async () => {
  await t.close();
});

it('writes 1,010 contacts in full bulk requests across slices, answering every item in order', async () => {
  const inputs: Array<Record<string, unknown>> = Array.from({ length: 1010 }, (_, i) => ({
    email: `slice${i}@example.com`,
    firstName: `N${i}`,
  }));
  // An invalid item, a contact named again in its slice, and one named again in the next slice.
  inputs.splice(500, 0, { email: 'not an email' });
  inputs.splice(10, 0, { email: 'slice3@example.com', lastName: 'Again' });
  inputs.push({ email: 'slice7@example.com', lastName: 'Later' });
  const res = await t.gql<{
    upsertContacts: { items: Item[]; summary: Record<string, number> };
  }>(UPSERT_MANY, { inputs, options: { providers: ['NOTIFUSE', 'DIGITAL_ONBOARDING'] } });
  expect(res.errors).toBeUndefined();
  const { items, summary } = res.data.upsertContacts;
  expect(items).toHaveLength(inputs.length);
  expect(summary).toMatchObject({ total: 1013, succeeded: 1012, failed: 1 });
  items.forEach((item, i) => {
    const email = inputs[i]!['email'];
    if (email === 'not an email') {
      expect(item.contact).toBeNull();
      expect(item.errors.length).toBeGreaterThan(0);
      return;
    }
    expect(item.contact?.email).toBe(email);
    // The contact named again in the next slice was written by the first: this write updates it.
    const status = i === inputs.length - 1 ? 'UPDATED' : 'CREATED';
    expect(item.outcomes.map((o) => o.status)).toEqual([status, status]);
  });
  // One contact, whichever slice named it again.
  expect(items[10]!.contact!.id).toBe(items[3]!.contact!.id);
  expect(items[1012]!.contact!.id).toBe(items[7]!.contact!.id);

  // 1,010 distinct writes in the first slice's merge, plus the later duplicate: ⌈1011 / B⌉ calls.
  const notifuse = t.notifuse.controls.requests.filter((r) => r.method === 'POST');
  const digitalOnboarding = t.digitalOnboarding.controls.requests.filter(
    (r) => r.method === 'POST',
  );
  expect(notifuse).toHaveLength(3);
  expect(digitalOnboarding).toHaveLength(11);
}, 120_000);
