import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../../../helpers/gateway.js';
import { updateOne, upsertMany, upsertOne, writePayload } from '../../../helpers/operations.js';

// #15 item 9, Notifuse list statuses: Notifuse's contact (`ContactInput`) has no list status and
// its server ignores `contact_lists` on a write, so the body pass-through cannot set one. The
// OpenAPI's `POST /api/contactLists.updateStatus` can, for a list the contact is in:
// `providerOptions.notifuse.listStatuses` sends it after the contact is written.
const FIELDS = writePayload(
  'id',
  'provider status remoteId droppedFields attempts details request error { code message httpStatus retryable }',
);
const UPSERT = upsertOne(FIELDS);
const UPSERT_MANY = upsertMany(`items { ${FIELDS} }`);
const UPDATE = updateOne(FIELDS);

interface Outcome {
  status: string;
  remoteId: string | null;
  droppedFields: string[];
  attempts: number;
  details: Record<string, unknown> | null;
  request: { url: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string; httpStatus: number | null; retryable: boolean } | null;
}
interface Payload {
  contact: { id: string } | null;
  outcomes: Outcome[];
  errors: Array<{ field: string; code: string; message: string }>;
}

const NF = { providers: ['NOTIFUSE'] };
const STATUS_PATH = '/api/contactLists.updateStatus';
const t = useTestGateway(
  { RETRY_MAX_ATTEMPTS: '1', GATEWAY_OUTBOX: 'off' },
  { only: ['NOTIFUSE'] },
);

async function gql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await t.gql<T>(query, variables);
  expect(res.errors).toBeUndefined();
  return res.data;
}
const upsert = async (input: Record<string, unknown>, options: Record<string, unknown> = NF) =>
  (await gql<{ upsertContact: Payload }>(UPSERT, { input, options })).upsertContact;

const sent = () =>
  t.notifuse.controls.requests.map((r) => ({
    path: r.path,
    body: r.body as Record<string, unknown>,
  }));
const listsOf = (email: string) =>
  Object.fromEntries(
    (
      (t.notifuse.store.get(email)?.['contact_lists'] ?? []) as Array<{
        list_id: string;
        status: string;
      }>
    ).map((l) => [l.list_id, l.status]),
  );
const workspace = () => t.sandboxes.config.notifuse!.workspaceId;

describe('providerOptions.notifuse.listStatuses', () => {
  it('subscribes, then sets the status: import first, then contactLists.updateStatus per list', async () => {
    const input = {
      email: 'ls-pending@example.com',
      providerOptions: {
        notifuse: {
          subscribeToLists: ['news'],
          listStatuses: [{ listId: 'news', status: 'PENDING' }],
        },
      },
    };
    const dry = await upsert(input, { ...NF, dryRun: true });
    expect(dry.outcomes[0]).toMatchObject({ status: 'DRY_RUN', error: null });
    expect(dry.outcomes[0]!.details).toEqual({
      listStatusRequests: [
        expect.objectContaining({
          method: 'POST',
          url: `${t.notifuse.url}${STATUS_PATH}`,
          body: {
            workspace_id: workspace(),
            email: 'ls-pending@example.com',
            list_id: 'news',
            status: 'pending',
          },
        }),
      ],
    });
    expect(t.notifuse.controls.requests).toEqual([]);

    const out = await upsert(input);
    expect(out.errors).toEqual([]);
    expect(out.outcomes[0]).toMatchObject({
      status: 'CREATED',
      droppedFields: [],
      attempts: 2,
      error: null,
    });
    expect(sent()).toEqual([
      {
        path: '/api/contacts.import',
        body: expect.objectContaining({ subscribe_to_lists: ['news'] }),
      },
      {
        path: STATUS_PATH,
        body: {
          workspace_id: workspace(),
          email: 'ls-pending@example.com',
          list_id: 'news',
          status: 'pending',
        },
      },
    ]);
    expect(listsOf('ls-pending@example.com')).toEqual({ news: 'pending' });
  });

  it('unsubscribes a linked contact on updateContact (contacts.upsert, then the status)', async () => {
    const created = await upsert({
      email: 'ls-unsub@example.com',
      providerOptions: { notifuse: { subscribeToLists: ['news', 'offers'] } },
    });
    expect(listsOf('ls-unsub@example.com')).toEqual({ news: 'active', offers: 'active' });
    t.notifuse.controls.reset();
    const res = (
      await gql<{ updateContact: Payload }>(UPDATE, {
        id: created.contact!.id,
        patch: {
          firstName: 'Gone',
          providerOptions: {
            notifuse: { listStatuses: [{ listId: 'offers', status: 'UNSUBSCRIBED' }] },
          },
        },
        options: NF,
      })
    ).updateContact;
    expect(res.outcomes[0]).toMatchObject({ status: 'UPDATED', droppedFields: [], error: null });
    expect(sent().map((r) => r.path)).toEqual(['/api/contacts.upsert', STATUS_PATH]);
    expect(listsOf('ls-unsub@example.com')).toEqual({ news: 'active', offers: 'unsubscribed' });
  });

  it('a list the contact is not in is dropped with the reason (Notifuse answers found: false)', async () => {
    const out = await upsert({
      email: 'ls-none@example.com',
      providerOptions: { notifuse: { listStatuses: [{ listId: 'vip', status: 'ACTIVE' }] } },
    });
    expect(out.outcomes[0]).toMatchObject({
      status: 'CREATED',
      droppedFields: ['providerOptions.notifuse.listStatuses.vip'],
      error: null,
    });
    expect(
      (out.outcomes[0]!.details!['droppedFieldReasons'] as Record<string, string>)[
        'providerOptions.notifuse.listStatuses.vip'
      ],
    ).toMatch(/not in Notifuse list vip.*subscribeToLists/);
    expect(sent().map((r) => r.path)).toEqual(['/api/contacts.upsert', STATUS_PATH]);
    expect(listsOf('ls-none@example.com')).toEqual({});
  });

  it('a batch sets each written contact’s statuses after the import', async () => {
    const res = (
      await gql<{ upsertContacts: { items: Payload[] } }>(UPSERT_MANY, {
        inputs: ['ls-b1', 'ls-b2', 'ls-b3'].map((n, i) => ({
          email: `${n}@example.com`,
          providerOptions: {
            notifuse: {
              subscribeToLists: ['news'],
              ...(i === 1 ? {} : { listStatuses: [{ listId: 'news', status: 'COMPLAINED' }] }),
            },
          },
        })),
        options: NF,
      })
    ).upsertContacts;
    expect(res.items.map((i) => [i.outcomes[0]!.status, i.outcomes[0]!.droppedFields])).toEqual([
      ['CREATED', []],
      ['CREATED', []],
      ['CREATED', []],
    ]);
    const paths = sent().map((r) => r.path);
    expect(paths[0]).toBe('/api/contacts.import');
    expect(paths.slice(1)).toEqual([STATUS_PATH, STATUS_PATH]);
    expect(listsOf('ls-b1@example.com')).toEqual({ news: 'complained' });
    expect(listsOf('ls-b2@example.com')).toEqual({ news: 'active' });
    expect(listsOf('ls-b3@example.com')).toEqual({ news: 'complained' });
  });

  it('a refused status call fails the outcome, saying the contact was written', async () => {
    t.notifuse.controls.inject({
      method: 'POST',
      path: STATUS_PATH,
      faults: [{ kind: 'status', status: 500 }],
    });
    const out = await upsert({
      email: 'ls-500@example.com',
      providerOptions: {
        notifuse: {
          subscribeToLists: ['news'],
          listStatuses: [{ listId: 'news', status: 'PENDING' }],
        },
      },
    });
    expect(out.outcomes[0]).toMatchObject({
      status: 'FAILED',
      remoteId: 'ls-500@example.com',
      error: { httpStatus: 500, retryable: true },
    });
    expect(out.outcomes[0]!.error!.message).toMatch(
      /contact was written, but its status in list news/,
    );
    expect(t.notifuse.store.get('ls-500@example.com')).toBeDefined();
  });

  it('input errors: an unknown status, a list given twice', async () => {
    const bad = await t.gql<{ upsertContact: Payload }>(UPSERT, {
      input: {
        email: 'ls-bad@example.com',
        providerOptions: { notifuse: { listStatuses: [{ listId: 'a', status: 'GONE' }] } },
      },
    });
    expect(bad.errors?.[0]?.message).toMatch(/NotifuseListStatus/);
    const twice = await upsert({
      email: 'ls-twice@example.com',
      providerOptions: {
        notifuse: {
          listStatuses: [
            { listId: 'a', status: 'ACTIVE' },
            { listId: 'a', status: 'PENDING' },
          ],
        },
      },
    });
    expect(twice.outcomes).toEqual([]);
    expect(twice.errors).toEqual([
      expect.objectContaining({
        field: 'input.providerOptions.notifuse.listStatuses.1.listId',
        code: 'INVALID_VALUE',
      }),
    ]);
    expect(t.notifuse.controls.requests).toEqual([]);
  });
});
