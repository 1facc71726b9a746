import { describe, expect, it } from 'vitest';
import {
  CONTACT_SCOPES,
  CONTACTS_PATH,
  OVERRIDE_FLAGS,
} from '../../../../src/sandbox/digital-onboarding/index.js';
import { SANDBOX_CREDENTIALS } from '../../../../src/sandbox-mode.js';
import { useTestGateway } from '../../../helpers/gateway.js';
import { updateOne, upsertMany, upsertOne, writePayload } from '../../../helpers/operations.js';

// #15 item 9, Digital Onboarding `destructive`: seed 000 (DO-1) lists it in the standard set of
// the `X-Operator-Override` *header* of POST /v2/partner/contacts, so the body pass-through cannot
// reach it. `providerOptions.digitalOnboarding.destructive: true` sends it in that header, beside
// the other flags of the write, and the dry run shows it.
const FIELDS = writePayload(
  'id',
  'provider status remoteId request error { code message httpStatus retryable details }',
);
const UPSERT = upsertOne(FIELDS);
const UPSERT_MANY = upsertMany(`items { ${FIELDS} }`);
const UPDATE = updateOne(FIELDS);

interface Payload {
  contact: { id: string } | null;
  outcomes: Array<{
    provider: string;
    status: string;
    remoteId: string | null;
    request: { method: string; headers: Record<string, string>; body: unknown } | null;
    error: { code: string; httpStatus: number | null; retryable: boolean; details: unknown } | null;
  }>;
  errors: Array<{ field: string; code: string; message: string }>;
}

const TOKEN = SANDBOX_CREDENTIALS.digitalOnboarding.token;
const DO = { providers: ['DIGITAL_ONBOARDING'] };
const DESTRUCTIVE = { digitalOnboarding: { destructive: true } };

const t = useTestGateway({ RETRY_MAX_ATTEMPTS: '1' }, { only: ['DIGITAL_ONBOARDING'] });

async function gql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await t.gql<T>(query, variables);
  expect(res.errors).toBeUndefined();
  return res.data;
}

const upsert = async (input: Record<string, unknown>, options: Record<string, unknown> = DO) =>
  (await gql<{ upsertContact: Payload }>(UPSERT, { input, options })).upsertContact;

function writes() {
  return t.digitalOnboarding.controls.requests.filter((r) => r.method !== 'GET');
}

describe('providerOptions.digitalOnboarding.destructive', () => {
  it('is sent as X-Operator-Override: destructive on the POST, never in the body, and the dry run shows it', async () => {
    const input = {
      externalId: 'do-destructive',
      email: 'destructive@example.com',
      providerOptions: DESTRUCTIVE,
    };
    const dry = await upsert(input, { ...DO, dryRun: true });
    expect(dry.outcomes[0]).toMatchObject({ status: 'DRY_RUN', error: null });
    expect(dry.outcomes[0]!.request).toMatchObject({
      method: 'POST',
      headers: { 'x-operator-override': 'destructive,dry_run' },
      body: { unique_id: 'do-destructive', email: 'destructive@example.com' },
    });
    expect(writes()).toEqual([]);

    const res = await upsert(input);
    expect(res.errors).toEqual([]);
    expect(res.outcomes[0]).toMatchObject({ status: 'CREATED', error: null });
    expect(writes()).toHaveLength(1);
    const post = writes()[0]!;
    expect(post).toMatchObject({ method: 'POST', path: CONTACTS_PATH, query: {} });
    expect(post.headers['x-operator-override']).toBe('destructive');
    expect(post.body).toEqual({ unique_id: 'do-destructive', email: 'destructive@example.com' });
    expect(t.digitalOnboarding.store.findByUniqueId('do-destructive')).toBeDefined();
  });

  it('travels with the other flags in the one header: force, and bulk for a batch', async () => {
    const single = await upsert({
      externalId: 'do-destructive-force',
      email: 'destructive-force@example.com',
      providerOptions: { digitalOnboarding: { destructive: true, overrides: ['force'] } },
    });
    expect(single.outcomes[0]).toMatchObject({ status: 'CREATED' });
    expect(writes()[0]!.headers['x-operator-override']).toBe('destructive,force');
    t.digitalOnboarding.controls.reset();

    const batch = (
      await gql<{ upsertContacts: { items: Payload[] } }>(UPSERT_MANY, {
        inputs: [
          { externalId: 'do-batch-d1', email: 'd1@example.com', providerOptions: DESTRUCTIVE },
          { externalId: 'do-batch-p1', email: 'p1@example.com' },
          { externalId: 'do-batch-d2', email: 'd2@example.com', providerOptions: DESTRUCTIVE },
        ],
        options: DO,
      })
    ).upsertContacts;
    expect(batch.items.map((i) => i.outcomes[0]!.status)).toEqual([
      'CREATED',
      'CREATED',
      'CREATED',
    ]);
    // Batches share one header, so the destructive items go in a bulk request of their own.
    const sent = writes().map((w) => ({
      override: w.headers['x-operator-override'],
      ids: ((w.body as { items: Array<{ unique_id: string }> }).items ?? []).map(
        (i) => i.unique_id,
      ),
    }));
    expect(sent).toHaveLength(2);
    expect(sent).toEqual(
      expect.arrayContaining([
        { override: 'bulk,destructive', ids: ['do-batch-d1', 'do-batch-d2'] },
        { override: 'bulk', ids: ['do-batch-p1'] },
      ]),
    );
  });

  it('is sent on the PATCH of a linked contact too; false or absent sends no flag', async () => {
    const created = await upsert({
      externalId: 'do-destructive-upd',
      email: 'destructive-upd@example.com',
      providerOptions: { digitalOnboarding: { destructive: false } },
    });
    expect(writes()[0]!.headers['x-operator-override']).toBeUndefined();
    t.digitalOnboarding.controls.reset();
    const res = (
      await gql<{ updateContact: Payload }>(UPDATE, {
        id: created.contact!.id,
        patch: { lastName: 'Gone', providerOptions: DESTRUCTIVE },
        options: DO,
      })
    ).updateContact;
    expect(res.outcomes[0]).toMatchObject({ status: 'UPDATED', error: null });
    expect(writes()[0]).toMatchObject({
      method: 'PATCH',
      path: `${CONTACTS_PATH}/${created.outcomes[0]!.remoteId}`,
      body: { name_last: 'Gone' },
    });
    expect(writes()[0]!.headers['x-operator-override']).toBe('destructive');
  });

  it('a token that may not use destructive → FAILED scope_insufficient (403, not retryable)', async () => {
    t.digitalOnboarding.setAllowedOverrides(TOKEN, ['bulk', 'force', 'dry_run']);
    try {
      const res = await upsert({
        externalId: 'do-destructive-403',
        email: 'destructive-403@example.com',
        providerOptions: DESTRUCTIVE,
      });
      expect(res.outcomes[0]).toMatchObject({
        status: 'FAILED',
        error: { code: 'scope_insufficient', httpStatus: 403, retryable: false },
      });
      expect(JSON.stringify(res.outcomes[0]!.error!.details)).toContain('destructive');
      expect(t.digitalOnboarding.store.findByUniqueId('do-destructive-403')).toBeUndefined();
    } finally {
      t.digitalOnboarding.addToken(TOKEN, Object.values(CONTACT_SCOPES));
      t.digitalOnboarding.setAllowedOverrides(TOKEN, [...OVERRIDE_FLAGS]);
    }
  });

  it('in overrides or in the body pass-through it is an InputError pointing at the typed option; nothing is sent', async () => {
    const inOverrides = await upsert({
      externalId: 'do-destructive-list',
      email: 'destructive-list@example.com',
      providerOptions: { digitalOnboarding: { overrides: ['destructive'] } },
    });
    expect(inOverrides.outcomes).toEqual([]);
    expect(inOverrides.errors).toEqual([
      expect.objectContaining({
        field: 'input.providerOptions.digitalOnboarding.overrides',
        code: 'INVALID_VALUE',
        message: expect.stringContaining('providerOptions.digitalOnboarding.destructive'),
      }),
    ]);

    const inBody = await upsert({
      externalId: 'do-destructive-body',
      email: 'destructive-body@example.com',
      providerOptions: { digitalOnboarding: { passThrough: { destructive: true } } },
    });
    expect(inBody.outcomes).toEqual([]);
    expect(inBody.errors).toEqual([
      expect.objectContaining({
        field: 'input.providerOptions.digitalOnboarding.passThrough.destructive',
        code: 'INVALID_VALUE',
        message: expect.stringContaining('X-Operator-Override'),
      }),
    ]);
    expect(t.digitalOnboarding.controls.requests).toEqual([]);
  });
});
