import { describe, expect, it } from 'vitest';
import { CONTACTS_PATH } from '../../../../src/sandbox/digital-onboarding/index.js';
import { SANDBOX_CREDENTIALS } from '../../../../src/sandbox-mode.js';
import { useTestGateway } from '../../../helpers/gateway.js';
import { upsertOne } from '../../../helpers/operations.js';

/**
 * #15 item 7: seed 000 documents only `201 Created` for `POST /v2/partner/contacts`, and the
 * sandbox answers 201 whether the upsert created or updated. The adapter must tell CREATED from
 * UPDATED by what the answer proves (the id the gateway already linked; `inserted_at` before
 * `updated_at`), never by an undocumented 200.
 */
const UPSERT = upsertOne(
  'outcomes { provider status remoteId error { code message } }',
  '{ providers: [DIGITAL_ONBOARDING] }',
);

interface Outcome {
  provider: string;
  status: string;
  remoteId: string | null;
  error: { code: string; message: string } | null;
}

const TOKEN = SANDBOX_CREDENTIALS.digitalOnboarding.token;
const t = useTestGateway(
  { RETRY_MAX_ATTEMPTS: '1', GATEWAY_OUTBOX: 'off' },
  { only: ['DIGITAL_ONBOARDING'] },
);

/** A contact written straight to the sandbox, behind the gateway's back (another client did it). */
async function createAtProvider(body: Record<string, unknown>) {
  const res = await fetch(`${t.digitalOnboarding.url}${CONTACTS_PATH}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; inserted_at: string; updated_at: string };
}

async function upsert(input: Record<string, unknown>): Promise<Outcome> {
  const res = await t.gql<{ upsertContact: { outcomes: Outcome[] } }>(UPSERT, { input });
  expect(res.errors).toBeUndefined();
  return res.data.upsertContact.outcomes[0]!;
}

describe('Digital Onboarding: created vs updated without a second status', () => {
  it('the sandbox answers 201 for an upsert that updates, as DO-1 documents', async () => {
    const first = await createAtProvider({ email: 'same@example.com', name_first: 'A' });
    const res = await fetch(`${t.digitalOnboarding.url}${CONTACTS_PATH}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'same@example.com', name_first: 'B' }),
    });
    expect(res.status).toBe(201);
    const again = (await res.json()) as { id: string; inserted_at: string; updated_at: string };
    expect(again.id).toBe(first.id);
    expect(Date.parse(again.updated_at)).toBeGreaterThan(Date.parse(again.inserted_at));
  });

  it('reports UPDATED for a POST that matched a contact the gateway had not linked', async () => {
    const existing = await createAtProvider({ email: 'known@example.com', name_first: 'Old' });
    t.digitalOnboarding.controls.clearRequests();

    const outcome = await upsert({ email: 'known@example.com', firstName: 'New' });

    const [req] = t.digitalOnboarding.controls.requests;
    expect(req).toMatchObject({ method: 'POST', path: CONTACTS_PATH });
    expect(outcome).toMatchObject({
      provider: 'DIGITAL_ONBOARDING',
      status: 'UPDATED',
      remoteId: existing.id,
      error: null,
    });
    expect(t.digitalOnboarding.store.get(existing.id)).toMatchObject({ name_first: 'New' });
  });

  it('reports CREATED for a POST that made a new contact (inserted_at = updated_at)', async () => {
    const outcome = await upsert({ email: 'fresh@example.com', firstName: 'Fresh' });
    expect(outcome.status).toBe('CREATED');
    const stored = t.digitalOnboarding.store.get(outcome.remoteId!)!;
    expect(stored.inserted_at).toBe(stored.updated_at);
  });

  it('reports UPDATED for the second write of a linked contact (PATCH, 200)', async () => {
    const first = await upsert({ email: 'twice@example.com', firstName: 'One' });
    t.digitalOnboarding.controls.clearRequests();
    const second = await upsert({ email: 'twice@example.com', firstName: 'Two' });
    expect(t.digitalOnboarding.controls.requests[0]).toMatchObject({ method: 'PATCH' });
    expect(second).toMatchObject({ status: 'UPDATED', remoteId: first.remoteId });
  });

  it('bulk: an entry is UPDATED only when its timestamps or the linked id prove it', async () => {
    const existing = await createAtProvider({ email: 'bulk-old@example.com' });
    const res = await t.gql<{
      upsertContacts: { items: Array<{ outcomes: Outcome[] }> };
    }>(
      `mutation($inputs: [ContactInput!]!) {
        upsertContacts(inputs: $inputs, options: { providers: [DIGITAL_ONBOARDING] }) {
          items { outcomes { provider status remoteId error { code message } } } } }`,
      { inputs: [{ email: 'bulk-old@example.com' }, { email: 'bulk-new@example.com' }] },
    );
    expect(res.errors).toBeUndefined();
    const outcomes = res.data.upsertContacts.items.map((i) => i.outcomes[0]!);
    expect(outcomes.map((o) => [o.status, o.remoteId === existing.id])).toEqual([
      ['UPDATED', true],
      ['CREATED', false],
    ]);
  });
});
