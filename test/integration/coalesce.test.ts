import { expect, it } from 'vitest';
import { useTestGateway } from '../helpers/gateway.js';
import { upsertMany } from '../helpers/operations.js';

/** Items of one request naming the same contact are written once per provider, patches merged. */
const UPSERT_MANY = upsertMany(
  'items { contact { id } outcomes { provider status remoteId } } summary { total succeeded upstreamRequests }',
);

const t = useTestGateway({}, { only: ['DIGITAL_ONBOARDING', 'SALESFORCE_MC'] });

it('writes a contact named twice in one batch once, with both patches, and answers both items', async () => {
  const res = await t.gql<{
    upsertContacts: {
      items: Array<{
        contact: { id: string };
        outcomes: Array<{ provider: string; status: string; remoteId: string }>;
      }>;
      summary: Record<string, number>;
    };
  }>(UPSERT_MANY, {
    inputs: [
      { email: 'twice@example.com', firstName: 'First' },
      { email: 'other@example.com', firstName: 'Other' },
      { email: 'twice@example.com', lastName: 'Second', firstName: 'Later' },
    ],
    options: { providers: ['DIGITAL_ONBOARDING', 'SALESFORCE_MC'] },
  });
  expect(res.errors).toBeUndefined();
  const { items, summary } = res.data.upsertContacts;
  expect(summary).toMatchObject({ total: 3, succeeded: 3 });
  expect(items[0]!.contact.id).toBe(items[2]!.contact.id);
  expect(items[0]!.outcomes).toEqual(items[2]!.outcomes);

  // Digital Onboarding: one bulk request carrying two contacts, the duplicate merged (later wins).
  const posts = t.digitalOnboarding.controls.requests.filter((r) => r.method === 'POST');
  expect(posts).toHaveLength(1);
  const sent = (posts[0]!.body as { items: Array<Record<string, unknown>> }).items;
  expect(sent).toHaveLength(2);
  expect(sent.find((i) => i['email'] === 'twice@example.com')).toMatchObject({
    name_first: 'Later',
    name_last: 'Second',
  });
  // Salesforce MC (one call per contact): two contact writes, not three.
  const sfmcWrites = t.salesforceMc.controls.requests.filter((r) =>
    r.path.startsWith('/contacts/v1/contacts'),
  );
  expect(sfmcWrites).toHaveLength(2);
  expect(t.salesforceMc.store.size).toBe(2);
});
