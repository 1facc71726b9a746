import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../../../helpers/gateway.js';
import { upsertMany } from '../../../helpers/operations.js';

/**
 * #15 item 6: an item `contacts.import` refuses comes back as `{email: "", action: "error",
 * error: "invalid contact at index <i>: email is required"}` (Notifuse's server parses each item;
 * one that fails parsing becomes an empty contact). The gateway must match it by its index in the
 * request and report it FAILED, not retryable, instead of "no result" (retryable, re-sent forever).
 */
const UPSERT_MANY = upsertMany(
  'items { outcomes { provider status remoteId error { code message httpStatus retryable } } } summary { total succeeded failed upstreamRequests }',
);
const PENDING = '{ pendingWrites { provider } }';

interface Outcome {
  provider: string;
  status: string;
  remoteId: string | null;
  error: { code: string; message: string; httpStatus: number | null; retryable: boolean } | null;
}

// The outbox is on (as in production): a retryable failure would come back QUEUED.
const t = useTestGateway({ RETRY_MAX_ATTEMPTS: '1', OUTBOX_POLL_MS: '0' }, { only: ['NOTIFUSE'] });

describe('Notifuse contacts.import: an item the server refuses', () => {
  it('is matched by its index and reported FAILED, not retryable, and not queued', async () => {
    t.notifuse.controls.clearRequests();
    // `x@a-.com` is a valid address for the gateway, but Notifuse's email check (govalidator)
    // refuses a host label ending in "-": the item fails parsing at Notifuse.
    const res = await t.gql<{
      upsertContacts: { items: Array<{ outcomes: Outcome[] }>; summary: Record<string, number> };
    }>(UPSERT_MANY, {
      inputs: [
        { email: 'first@example.com', firstName: 'First' },
        { email: 'x@a-.com', firstName: 'Refused' },
        { email: 'third@example.com', firstName: 'Third' },
      ],
    });
    expect(res.errors).toBeUndefined();
    const outcomes = res.data.upsertContacts.items.map((i) => i.outcomes[0]!);

    // The request and the answer that prove it.
    const sent = t.notifuse.controls.requests.filter((r) => r.path === '/api/contacts.import');
    expect(sent).toHaveLength(1);
    const contacts = (sent[0]!.body as { contacts: Array<{ email: string }> }).contacts;
    expect(contacts.map((c) => c.email)).toEqual([
      'first@example.com',
      'x@a-.com',
      'third@example.com',
    ]);

    expect(outcomes.map((o) => o.status)).toEqual(['CREATED', 'FAILED', 'CREATED']);
    expect(outcomes[1]).toMatchObject({
      provider: 'NOTIFUSE',
      remoteId: null,
      error: { code: 'BAD_REQUEST', httpStatus: 200, retryable: false },
    });
    expect(outcomes[1]!.error!.message).toContain('invalid contact at index 1');
    expect(res.data.upsertContacts.summary).toMatchObject({ total: 3, succeeded: 2, failed: 1 });

    const pending = await t.gql<{ pendingWrites: unknown[] }>(PENDING);
    expect(pending.data.pendingWrites).toEqual([]);
  });

  it('takes the index relative to the request it was in, with duplicates merged by email', async () => {
    t.notifuse.controls.clearRequests();
    const res = await t.gql<{
      upsertContacts: { items: Array<{ outcomes: Outcome[] }> };
    }>(UPSERT_MANY, {
      inputs: [
        { email: 'dup@example.com', firstName: 'One' },
        { email: 'dup@example.com', lastName: 'Two' },
        { email: 'y@b-.com' },
        { email: 'z@example.com' },
      ],
    });
    expect(res.errors).toBeUndefined();
    const sent = t.notifuse.controls.requests.filter((r) => r.path === '/api/contacts.import');
    const contacts = (sent[0]!.body as { contacts: Array<{ email: string }> }).contacts;
    // The duplicate was merged before sending: the refused item is at index 1 on the wire.
    expect(contacts.map((c) => c.email)).toEqual(['dup@example.com', 'y@b-.com', 'z@example.com']);
    const outcomes = res.data.upsertContacts.items.map((i) => i.outcomes[0]!);
    expect(outcomes.map((o) => [o.status, o.error?.retryable ?? null])).toEqual([
      ['CREATED', null],
      ['CREATED', null],
      ['FAILED', false],
      ['CREATED', null],
    ]);
    expect(outcomes[2]!.error!.message).toContain('invalid contact at index 1');
  });
});
