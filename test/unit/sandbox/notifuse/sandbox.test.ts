import { beforeEach, describe, expect, it } from 'vitest';
import { isEmail, normalizeEmail } from '../../../../src/sandbox/notifuse/email.js';
import { formatTimestamp, parseRfc3339 } from '../../../../src/sandbox/notifuse/go-time.js';
import { startNotifuseSandbox } from '../../../../src/sandbox/notifuse/index.js';
import {
  type SandboxReply as Reply,
  sandboxCall,
  useSandbox,
} from '../../../helpers/sandbox-http.js';

const API_KEY = 'nf-sandbox-key';
const WS = 'ws1';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const sandbox = useSandbox(() => startNotifuseSandbox({ apiKey: API_KEY, workspaceId: WS }));

beforeEach(() => {
  sandbox.store.clear();
});

interface CallOptions {
  /** JSON-encoded unless a string (sent as is). */
  body?: unknown;
  /** Authorization header value; `null` sends none. */
  auth?: string | null;
}

function call(method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const auth = opts.auth === undefined ? `Bearer ${API_KEY}` : opts.auth;
  return sandboxCall(sandbox.url, method, path, {
    headers: { 'content-type': 'application/json', authorization: auth },
    body: opts.body,
  });
}

const upsert = (contact: unknown, workspaceId: string = WS) =>
  call('POST', '/api/contacts.upsert', { body: { workspace_id: workspaceId, contact } });

const importContacts = (contacts: unknown, extra: Record<string, unknown> = {}) =>
  call('POST', '/api/contacts.import', { body: { workspace_id: WS, contacts, ...extra } });

const getByEmail = (email: string) =>
  call('GET', `/api/contacts.getByEmail?workspace_id=${WS}&email=${encodeURIComponent(email)}`);

/** A wire timestamp as microseconds (RFC 3339 strings with trimmed zeros do not sort as text). */
function micros(value: unknown): bigint {
  const parsed = parseRfc3339(String(value));
  if (!parsed.ok) {
    throw new Error(parsed.error);
  }
  return parsed.micros;
}

function contactOf(reply: Reply): Record<string, unknown> {
  return (reply.json as { contact: Record<string, unknown> }).contact;
}

describe('auth', () => {
  it.each([
    [null, 'Authorization header is required'],
    ['Basic abc', 'Invalid authorization header format'],
    [`bearer ${API_KEY}`, 'Invalid authorization header format'],
    [`Bearer  ${API_KEY}`, 'Invalid authorization header format'],
    [
      'Bearer wrong',
      'Invalid token: token is malformed: token contains an invalid number of segments',
    ],
    ['Bearer a.b.c', 'Invalid token: token signature is invalid: signature is invalid'],
  ])('answers 401 for Authorization %j', async (auth, message) => {
    const reply = await call('POST', '/api/contacts.upsert', {
      auth,
      body: { workspace_id: WS, contact: { email: 'a@example.com' } },
    });
    expect(reply.status).toBe(401);
    expect(reply.contentType).toBe('application/json');
    expect(reply.text).toBe(`${JSON.stringify({ error: message })}\n`);
    expect(sandbox.store.size).toBe(0);
  });

  it('authenticates before checking the method', async () => {
    const reply = await call('GET', '/api/contacts.upsert', { auth: null });
    expect(reply.status).toBe(401);
  });

  it('treats an unknown workspace as a permission failure, with each endpoint’s status', async () => {
    const up = await upsert({ email: 'a@example.com' }, 'other');
    expect([up.status, up.json]).toEqual([400, { error: 'workspace not found: other' }]);

    const imp = await call('POST', '/api/contacts.import', {
      body: { workspace_id: 'other', contacts: [{ email: 'a@example.com' }] },
    });
    expect([imp.status, imp.json]).toEqual([
      500,
      { error: 'failed to authenticate user: workspace not found: other' },
    ]);

    const byEmail = await call('GET', '/api/contacts.getByEmail?workspace_id=other&email=a@x.io');
    expect([byEmail.status, byEmail.json]).toEqual([
      500,
      { error: 'Failed to get contact by email' },
    ]);

    const byId = await call(
      'GET',
      '/api/contacts.getByExternalID?workspace_id=other&external_id=1',
    );
    expect([byId.status, byId.json]).toEqual([
      500,
      { error: 'Failed to get contact by external ID' },
    ]);

    const list = await call('GET', '/api/contacts.list?workspace_id=other');
    expect([list.status, list.contentType, list.text]).toEqual([
      500,
      'text/plain; charset=utf-8',
      'Failed to get contacts\n',
    ]);
    expect(sandbox.store.size).toBe(0);
  });
});

describe('POST /api/contacts.upsert', () => {
  it('creates, then updates, with the normalised email and no error key', async () => {
    const created = await upsert({
      email: '  Alice@Example.COM\u00a0',
      first_name: '  Alice\u2003',
      last_name: 'Liddell',
    });
    expect(created.status).toBe(200);
    expect(created.contentType).toBe('application/json');
    expect(created.text).toBe('{"email":"alice@example.com","action":"create"}\n');

    const before = sandbox.store.get('alice@example.com');
    expect(before).toMatchObject({ first_name: 'Alice', last_name: 'Liddell' });

    const updated = await upsert({ email: 'alice@example.com', job_title: 'Explorer' });
    expect(updated.status).toBe(200);
    expect(updated.json).toEqual({ email: 'alice@example.com', action: 'update' });

    const after = sandbox.store.get('ALICE@example.com');
    expect(after).toMatchObject({
      first_name: 'Alice',
      last_name: 'Liddell',
      job_title: 'Explorer',
    });
    expect(after?.['created_at']).toBe(before?.['created_at']);
    expect(micros(after?.['updated_at'])).toBeGreaterThan(micros(before?.['updated_at']));
    expect(sandbox.store.size).toBe(1);
  });

  it('keeps omitted fields and clears explicit nulls', async () => {
    await upsert({
      email: 'bob@example.com',
      first_name: 'Bob',
      last_name: 'Builder',
      phone: '+441234',
      custom_json_1: { tier: 'gold' },
    });
    const reply = await upsert({
      email: 'bob@example.com',
      first_name: null,
      custom_json_1: null,
      phone: '+449999',
    });
    expect(reply.json).toEqual({ email: 'bob@example.com', action: 'update' });

    const contact = contactOf(await getByEmail('bob@example.com'));
    expect(contact['last_name']).toBe('Builder');
    expect(contact['phone']).toBe('+449999');
    expect(contact).not.toHaveProperty('first_name');
    expect(contact).not.toHaveProperty('custom_json_1');
  });

  it.each([
    ['not json', 'Invalid request body'],
    ['[]', 'Invalid request body'],
    [{ workspace_id: 7, contact: { email: 'a@x.io' } }, 'Invalid request body'],
    [{ contact: { email: 'a@x.io' } }, 'workspace_id is required'],
    [{ workspace_id: WS }, 'contact field is required'],
    [{ workspace_id: WS, contact: {} }, 'invalid contact: email is required'],
    [{ workspace_id: WS, contact: null }, 'invalid contact: email is required'],
    [{ workspace_id: WS, contact: { email: '   ' } }, 'invalid contact: email is required'],
    [{ workspace_id: WS, contact: { email: 'nope' } }, 'invalid contact: invalid email format'],
    [
      { workspace_id: WS, contact: { email: 'a@localhost' } },
      'invalid contact: invalid email format',
    ],
    [
      { workspace_id: WS, contact: { email: 'a@x.io', phone: 123 } },
      'invalid contact: invalid type for phone: expected string, got Number',
    ],
    [
      { workspace_id: WS, contact: { email: 'a@x.io', first_name: true } },
      'invalid contact: invalid type for first_name: expected string, got True',
    ],
    [
      { workspace_id: WS, contact: { email: 'a@x.io', custom_number_1: '5' } },
      'invalid contact: invalid type for custom_number_1: expected number, got String',
    ],
    [
      { workspace_id: WS, contact: { email: 'a@x.io', custom_datetime_1: '2023-06-01' } },
      'invalid contact: invalid time format for custom_datetime_1: parsing time "2023-06-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"',
    ],
    [
      { workspace_id: WS, contact: { email: 'a@x.io', custom_datetime_2: '2023-02-30T00:00:00Z' } },
      'invalid contact: invalid time format for custom_datetime_2: parsing time "2023-02-30T00:00:00Z": day out of range',
    ],
    [
      { workspace_id: WS, contact: { email: 'a@x.io', custom_json_1: 'x' } },
      'invalid contact: invalid JSON value for custom_json_1, got String',
    ],
    [
      { workspace_id: WS, contact: { email: 'a@x.io', postcode: '1'.repeat(21) } },
      'failed to upsert contact: pq: value too long for type character varying(20)',
    ],
    [
      { workspace_id: WS, contact: { email: `${'a'.repeat(251)}@x.io` } },
      'failed to upsert contact: pq: value too long for type character varying(255)',
    ],
  ])('answers 400 for %j', async (body, message) => {
    const reply = await call('POST', '/api/contacts.upsert', { body });
    expect(reply.status).toBe(400);
    expect(reply.contentType).toBe('application/json');
    expect(reply.json).toEqual({ error: message });
    expect(sandbox.store.size).toBe(0);
  });

  it('ignores unknown and read-only keys and stores typed custom fields', async () => {
    const reply = await upsert({
      email: 'carol@example.com',
      created_at: '2001-01-01T00:00:00Z',
      lifetime_value: 99,
      contact_lists: [{ list_id: 'x' }],
      custom_number_1: 1.5,
      custom_datetime_1: '2023-06-01T11:00:00.5+02:00',
      custom_json_1: { b: 1, a: [1, { d: 2, c: 3 }] },
    });
    expect(reply.json).toEqual({ email: 'carol@example.com', action: 'create' });

    const contact = contactOf(await getByEmail('carol@example.com'));
    expect(contact['created_at']).not.toBe('2001-01-01T00:00:00Z');
    expect(contact).not.toHaveProperty('lifetime_value');
    expect(contact['contact_lists']).toEqual([]);
    expect(contact['custom_number_1']).toBe(1.5);
    expect(contact['custom_datetime_1']).toBe('2023-06-01T09:00:00.5Z');
    // JSON columns come back re-encoded from Go maps: keys sorted.
    expect(JSON.stringify(contact['custom_json_1'])).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
  });
});

describe('GET /api/contacts.getByEmail and getByExternalID', () => {
  it('omits NULL columns and always includes contact_lists and contact_segments', async () => {
    await upsert({
      email: 'dave@example.com',
      first_name: 'Dave',
      last_name: null,
      external_id: 'ext-1',
    });
    const reply = await getByEmail('  DAVE@example.com ');
    expect(reply.status).toBe(200);
    const contact = contactOf(reply);
    expect(Object.keys(contact)).toEqual([
      'email',
      'external_id',
      'first_name',
      'created_at',
      'updated_at',
      'contact_lists',
      'contact_segments',
    ]);
    expect(contact).toMatchObject({
      email: 'dave@example.com',
      external_id: 'ext-1',
      first_name: 'Dave',
      contact_lists: [],
      contact_segments: [],
    });
    expect(contact['created_at']).toMatch(RFC3339);
    expect(contact['updated_at']).toMatch(RFC3339);

    const byId = await call(
      'GET',
      `/api/contacts.getByExternalID?workspace_id=${WS}&external_id=ext-1`,
    );
    expect(byId.status).toBe(200);
    expect(contactOf(byId)).toEqual(contact);
  });

  it('answers 400 for missing parameters and 404 for an unknown contact', async () => {
    const noWs = await call('GET', '/api/contacts.getByEmail?email=a@x.io');
    expect([noWs.status, noWs.json]).toEqual([400, { error: 'Missing workspace ID' }]);
    const noEmail = await call('GET', `/api/contacts.getByEmail?workspace_id=${WS}`);
    expect([noEmail.status, noEmail.json]).toEqual([400, { error: 'Missing email' }]);
    const noId = await call('GET', `/api/contacts.getByExternalID?workspace_id=${WS}`);
    expect([noId.status, noId.json]).toEqual([400, { error: 'Missing external ID' }]);

    const missing = await getByEmail('ghost@example.com');
    expect([missing.status, missing.contentType, missing.json]).toEqual([
      404,
      'application/json',
      { error: 'Contact not found' },
    ]);
    const missingId = await call(
      'GET',
      `/api/contacts.getByExternalID?workspace_id=${WS}&external_id=nobody`,
    );
    expect([missingId.status, missingId.json]).toEqual([404, { error: 'Contact not found' }]);
  });
});

describe('POST /api/contacts.import', () => {
  it('ignores explicit nulls (bulk cannot clear) and resets created_at', async () => {
    await upsert({ email: 'erin@example.com', first_name: 'Erin', last_name: 'Old' });
    const before = sandbox.store.get('erin@example.com');

    const reply = await importContacts([
      { email: 'erin@example.com', first_name: null, last_name: 'New' },
    ]);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{"operations":[{"email":"erin@example.com","action":"update"}]}\n');

    const after = sandbox.store.get('erin@example.com');
    expect(after).toMatchObject({ first_name: 'Erin', last_name: 'New' });
    expect(micros(after?.['created_at'])).toBeGreaterThan(micros(before?.['created_at']));
    expect(after?.['updated_at']).toBe(after?.['created_at']);
  });

  it('reports invalid items by index, de-duplicates (last wins), and answers out of input order', async () => {
    const reply = await importContacts([
      { email: 'zed@example.com', first_name: 'first' },
      { email: 'bad' },
      { email: 'mia@example.com' },
      { phone: '1' },
      { email: 'amy@example.com' },
      { email: 'ZED@example.com', first_name: 'last' },
      { email: 'amy@example.com', phone: 5 },
    ]);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      operations: [
        // Validation failures first; the real reason is lost and the email is "".
        { email: '', action: 'error', error: 'invalid contact at index 1: email is required' },
        { email: '', action: 'error', error: 'invalid contact at index 3: email is required' },
        { email: '', action: 'error', error: 'invalid contact at index 6: email is required' },
        // Then database results, one per email, not in input order (mia, amy, zed).
        { email: 'amy@example.com', action: 'create' },
        { email: 'mia@example.com', action: 'create' },
        { email: 'zed@example.com', action: 'create' },
      ],
    });
    expect(sandbox.store.get('zed@example.com')?.['first_name']).toBe('last');
    expect(sandbox.store.size).toBe(3);
  });

  it('fails every contact of a 500-contact chunk when one value is rejected', async () => {
    const contacts: Record<string, unknown>[] = Array.from({ length: 501 }, (_, i) => ({
      email: `user${String(i).padStart(3, '0')}@example.com`,
    }));
    contacts[7] = { email: 'user007@example.com', postcode: 'x'.repeat(25) };

    const reply = await importContacts(contacts);
    expect(reply.status).toBe(200);
    const { operations } = reply.json as {
      operations: { email: string; action: string; error?: string }[];
    };
    expect(operations).toHaveLength(501);
    expect(operations.slice(0, 500).every((op) => op.action === 'error')).toBe(true);
    expect(operations[0]).toEqual({
      email: 'user000@example.com',
      action: 'error',
      error:
        'failed to upsert contact at index 0: failed to execute bulk upsert: pq: value too long for type character varying(20)',
    });
    expect(operations[499]?.error).toMatch(/^failed to upsert contact at index 499: /);
    expect(operations[500]).toEqual({ email: 'user500@example.com', action: 'create' });
    expect(sandbox.store.size).toBe(1);
    expect(sandbox.controls.requestCount({ path: '/api/contacts.import' })).toBe(1);
  });

  it('subscribes to lists as active without overwriting an unsubscribed membership', async () => {
    await upsert({ email: 'gone@example.com' });
    sandbox.store.setMembership('gone@example.com', 'news', 'unsubscribed');

    const reply = await importContacts(
      [{ email: 'gone@example.com' }, { email: 'new@example.com' }],
      {
        subscribe_to_lists: ['news'],
      },
    );
    expect(reply.status).toBe(200);

    const fresh = contactOf(await getByEmail('new@example.com'));
    expect(fresh['contact_lists']).toEqual([
      {
        email: 'new@example.com',
        list_id: 'news',
        list_name: 'news',
        status: 'active',
        created_at: expect.stringMatching(RFC3339),
        updated_at: expect.stringMatching(RFC3339),
      },
    ]);
    const kept = contactOf(await getByEmail('gone@example.com'));
    expect(kept['contact_lists']).toMatchObject([{ list_id: 'news', status: 'unsubscribed' }]);
  });

  it.each([
    [{ contacts: [{ email: 'a@x.io' }] }, 'workspace_id is required'],
    [{ workspace_id: WS }, 'contacts must be an array'],
    [{ workspace_id: WS, contacts: { email: 'a@x.io' } }, 'contacts must be an array'],
    [{ workspace_id: WS, contacts: [] }, 'contacts array is empty'],
    [
      { workspace_id: WS, contacts: [{ email: 'a@x.io' }], subscribe_to_lists: [1] },
      'Invalid request body',
    ],
    ['{"workspace_id":', 'Invalid request body'],
  ])('answers 400 for %j', async (body, message) => {
    const reply = await call('POST', '/api/contacts.import', { body });
    expect([reply.status, reply.json]).toEqual([400, { error: message }]);
  });
});

describe('POST /api/contactLists.updateStatus', () => {
  const update = (body: Record<string, unknown>) =>
    call('POST', '/api/contactLists.updateStatus', { body });
  const full = { workspace_id: WS, email: 'Ls@Example.com', list_id: 'news', status: 'pending' };

  it('400 with the OpenAPI messages, in the order of its required list', async () => {
    for (const [body, message] of [
      [{ ...full, workspace_id: undefined }, 'workspace_id is required'],
      [{ ...full, email: '' }, 'email is required'],
      [{ ...full, list_id: undefined }, 'list_id is required'],
      [{ ...full, status: undefined }, 'status is required'],
      [{ ...full, status: 'PENDING' }, 'invalid status value'],
      [{ ...full, list_id: 7 }, 'Invalid request body'],
    ] as const) {
      const r = await update(body);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: message });
    }
  });

  it('changes an existing membership only; a missing one is 200 found: false (the code)', async () => {
    expect((await upsert({ email: 'ls@example.com' })).status).toBe(200);
    const missing = await update(full);
    expect(missing.status).toBe(200);
    expect(missing.json).toEqual({ success: true, message: 'contact not in list', found: false });
    expect(
      ((await getByEmail('ls@example.com')).json as { contact: { contact_lists: unknown[] } })
        .contact.contact_lists,
    ).toEqual([]);

    sandbox.store.setMembership('ls@example.com', 'news', 'active');
    const found = await update(full);
    expect(found.json).toEqual({
      success: true,
      message: 'status updated successfully',
      found: true,
    });
    const lists = (
      (await getByEmail('ls@example.com')).json as {
        contact: { contact_lists: Array<{ list_id: string; status: string }> };
      }
    ).contact.contact_lists;
    expect(lists.map((l) => [l.list_id, l.status])).toEqual([['news', 'pending']]);
  });
});

describe('GET /api/contacts.list', () => {
  async function seed(count: number): Promise<string[]> {
    const emails: string[] = [];
    for (let i = 0; i < count; i++) {
      const email = `list${i}@example.com`;
      emails.push(email);
      await upsert({ email, first_name: i % 2 === 0 ? `Alice ${i}` : `Bob ${i}` });
    }
    return emails;
  }

  it('pages by created_at DESC with an opaque cursor, without next_cursor on the last page', async () => {
    const emails = await seed(5);
    const seen: string[] = [];
    let cursor: string | undefined;
    const pages: number[] = [];
    do {
      const path = `/api/contacts.list?workspace_id=${WS}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const reply = await call('GET', path);
      expect(reply.status).toBe(200);
      const body = reply.json as { contacts: { email: string }[]; next_cursor?: string };
      pages.push(body.contacts.length);
      seen.push(...body.contacts.map((c) => c.email));
      cursor = body.next_cursor;
      if (cursor !== undefined) {
        const decoded = Buffer.from(cursor, 'base64').toString('utf8');
        expect(decoded).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z~list\d@example\.com$/);
      } else {
        expect(reply.text).not.toContain('next_cursor');
      }
    } while (cursor !== undefined);
    expect(pages).toEqual([2, 2, 1]);
    expect(seen).toEqual([...emails].reverse());
  });

  it('filters case-insensitively and partially, and joins lists only on request', async () => {
    await seed(4);
    const reply = await call('GET', `/api/contacts.list?workspace_id=${WS}&first_name=aLiCe`);
    const body = reply.json as { contacts: Record<string, unknown>[] };
    expect(body.contacts.map((c) => c['email'])).toEqual([
      'list2@example.com',
      'list0@example.com',
    ]);
    expect(body.contacts[0]?.['contact_lists']).toBeNull();

    const joined = await call(
      'GET',
      `/api/contacts.list?workspace_id=${WS}&email=LIST3&with_contact_lists=true`,
    );
    const joinedBody = joined.json as { contacts: Record<string, unknown>[] };
    expect(joinedBody.contacts).toHaveLength(1);
    expect(joinedBody.contacts[0]?.['contact_lists']).toEqual([]);
  });

  it('answers its errors in text/plain', async () => {
    const cases: [string, number, string][] = [
      ['', 400, 'Invalid request: workspace_id is required\n'],
      [`workspace_id=${WS}&limit=0`, 400, 'Invalid request: limit must be between 1 and 100\n'],
      [
        `workspace_id=${WS}&limit=ten`,
        400,
        'Invalid request: invalid limit: strconv.Atoi: parsing "ten": invalid syntax\n',
      ],
      [`workspace_id=${WS}&cursor=%25%25`, 500, 'Failed to get contacts\n'],
    ];
    for (const [query, status, text] of cases) {
      const reply = await call('GET', `/api/contacts.list?${query}`);
      expect([reply.status, reply.contentType, reply.text]).toEqual([
        status,
        'text/plain; charset=utf-8',
        text,
      ]);
    }
  });
});

describe('POST /api/contacts.delete and GET /api/contacts.count', () => {
  it('deletes once, then 404s, and counts', async () => {
    await upsert({ email: 'one@example.com' });
    await upsert({ email: 'two@example.com' });
    const counted = await call('GET', `/api/contacts.count?workspace_id=${WS}`);
    expect(counted.json).toEqual({ total_contacts: 2 });

    const del = () =>
      call('POST', '/api/contacts.delete', {
        body: { workspace_id: WS, email: 'One@example.com' },
      });
    expect(await del()).toMatchObject({ status: 200, json: { success: true } });
    expect(await del()).toMatchObject({ status: 404, json: { error: 'Contact not found' } });
    expect((await call('GET', `/api/contacts.count?workspace_id=${WS}`)).json).toEqual({
      total_contacts: 1,
    });

    const invalid = await call('POST', '/api/contacts.delete', {
      body: { workspace_id: WS, email: ' two@example.com' },
    });
    expect([invalid.status, invalid.json]).toEqual([400, { error: 'invalid email format' }]);
    const noWs = await call('GET', '/api/contacts.count');
    expect([noWs.status, noWs.json]).toEqual([400, { error: 'Missing workspace ID' }]);
  });
});

describe('routing', () => {
  it('answers 405 Method not allowed (JSON, text/plain for list) and 404 for unknown paths', async () => {
    const upsertGet = await call('GET', '/api/contacts.upsert');
    expect([upsertGet.status, upsertGet.contentType, upsertGet.json]).toEqual([
      405,
      'application/json',
      { error: 'Method not allowed' },
    ]);
    const listPost = await call('POST', '/api/contacts.list', { body: {} });
    expect([listPost.status, listPost.contentType, listPost.text]).toEqual([
      405,
      'text/plain; charset=utf-8',
      'Method not allowed\n',
    ]);
    const unknown = await call('GET', '/api/contacts.nope', { auth: null });
    expect([unknown.status, unknown.text]).toEqual([404, '404 page not found\n']);
  });

  it('applies shared faults to provider paths', async () => {
    sandbox.controls.inject({
      method: 'POST',
      path: '/api/contacts.upsert',
      faults: [{ kind: 'status', status: 503 }],
    });
    expect((await upsert({ email: 'f@example.com' })).status).toBe(503);
    expect((await upsert({ email: 'f@example.com' })).json).toEqual({
      email: 'f@example.com',
      action: 'create',
    });
    expect(sandbox.controls.requestCount({ path: '/api/contacts.upsert' })).toBe(2);
    expect(sandbox.controls.requests[1]?.headers['authorization']).toBe(`Bearer ${API_KEY}`);
  });
});

describe('Notifuse value rules', () => {
  it.each([
    ['user@example.com', true],
    ['first.last+tag@sub.example.co.uk', true],
    // govalidator's quoted form repeats the opening quote: `"a"b"` passes, `"ab"` does not.
    ['"quoted"@example.com', false],
    ['"a"b"@example.com', true],
    ['é@exämple.com', true],
    ['a@b', false],
    ['a..b@example.com', false],
    ['a@-example.com', false],
    ['a@example.c0m', true],
    ['a@example.1', false],
    ['a b@example.com', false],
  ])('govalidator.IsEmail(%j) is %s', (email, expected) => {
    expect(isEmail(email)).toBe(expected);
  });

  it('normalises with Go’s Unicode spaces (not U+FEFF) and lower-cases', () => {
    expect(normalizeEmail('\u3000 A@B.COM\u00a0\n')).toBe('a@b.com');
    expect(normalizeEmail('\ufeffa@b.com')).toBe('\ufeffa@b.com');
  });

  it('parses RFC 3339 like Go and stores microseconds in UTC', () => {
    const parsed = parseRfc3339('2024-02-29T23:59:59.1234567-01:30');
    expect(parsed.ok && formatTimestamp(parsed.micros)).toBe('2024-03-01T01:29:59.123457Z');
    expect(parseRfc3339('2023-02-29T00:00:00Z')).toEqual({
      ok: false,
      error: 'parsing time "2023-02-29T00:00:00Z": day out of range',
    });
    expect(parseRfc3339('2023-01-01T00:00:00Zjunk')).toEqual({
      ok: false,
      error: 'parsing time "2023-01-01T00:00:00Zjunk": extra text: "junk"',
    });
  });
});
