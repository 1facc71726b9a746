import { randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DIGITAL_ONBOARDING_MAX_BULK_ITEMS,
  startDigitalOnboardingSandbox,
} from '../../../../src/sandbox/digital-onboarding/index.js';
import {
  type SandboxReply as Reply,
  sandboxCall,
  useSandbox,
} from '../../../helpers/sandbox-http.js';

const TOKEN = 'do-partner-token';
const PATH = '/v2/partner/contacts';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const sandbox = useSandbox(() => startDigitalOnboardingSandbox({ token: TOKEN, maxBulkItems: 3 }));

beforeAll(async () => {
  sandbox.addToken('read-only-token', ['partner:contacts:read']);
  sandbox.addToken('wildcard-token', ['partner:contacts:*']);
  sandbox.addToken('no-dry-run-token', ['partner:contacts:write']);
  sandbox.setAllowedOverrides('no-dry-run-token', ['bulk', 'bypass_validation=email_format']);
});

beforeEach(() => {
  sandbox.store.clear();
});

interface CallOptions {
  body?: unknown;
  /** `null` sends no Authorization header */
  token?: string | null;
  override?: string;
  key?: string;
  rawBody?: string;
}

function call(method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const token = opts.token === undefined ? TOKEN : opts.token;
  return sandboxCall(sandbox.url, method, path, {
    headers: {
      'content-type': 'application/json',
      authorization: token === null ? null : `Bearer ${token}`,
      'x-operator-override': opts.override ?? null,
      'idempotency-key': opts.key ?? null,
    },
    body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    strictJson: true,
  });
}

const upsert = (body: unknown, opts: CallOptions = {}) => call('POST', PATH, { ...opts, body });

describe('options and exports', () => {
  it('exposes the bulk limit', () => {
    expect(DIGITAL_ONBOARDING_MAX_BULK_ITEMS).toBe(100);
    expect(sandbox.maxBulkItems).toBe(3);
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses bad options and unknown tokens/flags', async () => {
    await expect(startDigitalOnboardingSandbox({ token: '' })).rejects.toThrow(TypeError);
    await expect(startDigitalOnboardingSandbox({ token: 't', maxBulkItems: 0 })).rejects.toThrow(
      RangeError,
    );
    expect(() => sandbox.setAllowedOverrides('nobody', ['bulk'])).toThrow(/unknown token/);
    expect(() => sandbox.setAllowedOverrides(TOKEN, ['nuke'])).toThrow(/unknown override/);
  });
});

describe('auth: tokens and scopes', () => {
  it('401 without a bearer token, with the errors envelope', async () => {
    const r = await upsert({ unique_id: 'u1' }, { token: null });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(r.json).toEqual({
      errors: [
        { code: 'unauthorized', title: 'Unauthorized', detail: expect.any(String), meta: {} },
      ],
    });
  });

  it('401 invalid_token for an unknown token', async () => {
    const r = await call('GET', `${PATH}/${randomUUID()}`, { token: 'nope' });
    expect(r.status).toBe(401);
    expect(r.json.errors[0].code).toBe('invalid_token');
    expect(sandbox.store.size).toBe(0);
  });

  it('401 scope_missing naming the required scope when a token cannot write', async () => {
    const r = await upsert({ unique_id: 'u1' }, { token: 'read-only-token' });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({
      errors: [
        {
          code: 'scope_missing',
          title: 'Scope missing',
          detail: 'this token lacks the scope partner:contacts:write',
          meta: { required_scope: 'partner:contacts:write' },
        },
      ],
    });
    expect(sandbox.store.size).toBe(0);
    // the same token may read
    expect((await call('GET', PATH, { token: 'read-only-token' })).status).toBe(200);
  });

  it('honours wildcard scopes', async () => {
    const r = await upsert({ unique_id: 'w1' }, { token: 'wildcard-token' });
    expect(r.status).toBe(201);
  });

  it('404 and 405 use the envelope too', async () => {
    const missing = await call('GET', '/v2/partner/nothing');
    expect(missing.status).toBe(404);
    expect(missing.json.errors[0].code).toBe('not_found');
    const wrong = await call('PUT', PATH);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST, GET');
  });
});

describe('POST one contact (upsert)', () => {
  it('creates with 201, filling server fields and defaults', async () => {
    const r = await upsert({
      unique_id: 'cust-1',
      email: 'Ada@Example.com',
      name_first: 'Ada',
      phone_mobile: '+13125550123',
      country: 'us',
      birthdate: '1990-02-28',
      timezone: 'America/Chicago',
      email_opted_in: true,
      meta_public: { tier: 'gold' },
    });
    expect(r.status).toBe(201);
    const c = r.json;
    expect(r.headers.get('location')).toBe(`${PATH}/${c.id}`);
    expect(c).toMatchObject({
      type: 'contact',
      team_id: sandbox.store.teamId,
      unique_id: 'cust-1',
      email: 'Ada@Example.com',
      name_first: 'Ada',
      name_last: null,
      phone_mobile: '+13125550123',
      country: 'US',
      birthdate: '1990-02-28',
      timezone: 'America/Chicago',
      email_opted_in: true,
      sms_opted_in: false,
      meta_public: { tier: 'gold' },
      last_seen_at: null,
      active_journey_ids: [],
      completed_objective_keys: [],
    });
    expect(c.id).toMatch(UUID_V4);
    expect(c.inserted_at).toMatch(RFC3339);
    expect(c.updated_at).toBe(c.inserted_at);
    expect(sandbox.store.get(c.id)).toEqual(c);
    expect(sandbox.store.findByEmail('ada@example.com')?.id).toBe(c.id);
  });

  it('updates with 201 (DO-1 lists no other) when unique_id matches (merge: omitted kept, null clears)', async () => {
    const first = (await upsert({ unique_id: 'cust-1', name_first: 'Ada', city: 'Paris' })).json;
    const r = await upsert({ unique_id: 'cust-1', name_last: 'Lovelace', city: null });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      id: first.id,
      name_first: 'Ada',
      name_last: 'Lovelace',
      city: null,
      inserted_at: first.inserted_at,
    });
    expect(r.json.updated_at > first.updated_at).toBe(true);
    expect(sandbox.store.size).toBe(1);
  });

  it('falls back to email (case-insensitive) and adopts the unique_id', async () => {
    const first = (await upsert({ email: 'grace@example.com' })).json;
    const r = await upsert({
      unique_id: 'cust-2',
      email: 'GRACE@example.com',
      name_first: 'Grace',
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ id: first.id, unique_id: 'cust-2', name_first: 'Grace' });
    expect(sandbox.store.findByUniqueId('cust-2')?.id).toBe(first.id);
  });

  it('409 when the email belongs to a contact with another unique_id', async () => {
    const first = (await upsert({ unique_id: 'a', email: 'x@example.com' })).json;
    const r = await upsert({ unique_id: 'b', email: 'x@example.com' });
    expect(r.status).toBe(409);
    expect(r.json.errors[0]).toMatchObject({
      code: 'conflict',
      meta: { field: 'email', contact_id: first.id },
    });
  });

  it('422 when neither unique_id nor email is given', async () => {
    const r = await upsert({ name_first: 'Nobody' });
    expect(r.status).toBe(422);
    expect(r.json.errors[0]).toMatchObject({ code: 'required', meta: { field: 'unique_id' } });
  });

  it('ignores read-only fields so a read contact can be sent back', async () => {
    const first = (await upsert({ unique_id: 'rt', name_first: 'A' })).json;
    const r = await upsert({ ...first, name_first: 'B', id: randomUUID(), inserted_at: 'x' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ id: first.id, name_first: 'B', inserted_at: first.inserted_at });
  });

  it('403 resource_forbidden for another team_id', async () => {
    const r = await upsert({ unique_id: 'x', team_id: randomUUID() });
    expect(r.status).toBe(403);
    expect(r.json.errors[0]).toMatchObject({
      code: 'resource_forbidden',
      meta: { field: 'team_id' },
    });
  });
});

describe('validation', () => {
  it('422 with one error per bad field, each naming it', async () => {
    const r = await upsert({
      unique_id: 'v',
      email: 'not-an-email',
      phone_home: '555-0100',
      country: 'USA',
      birthdate: '1990-02-30',
      timezone: '+05:00',
      sms_opted_in: 'yes',
      meta_public: [],
      name_first: 'x'.repeat(256),
      first_name: 'typo',
    });
    expect(r.status).toBe(422);
    const byField = Object.fromEntries(
      r.json.errors.map((e: { code: string; meta: { field: string } }) => [e.meta.field, e.code]),
    );
    expect(byField).toEqual({
      email: 'invalid_format',
      phone_home: 'invalid_format',
      country: 'invalid_format',
      birthdate: 'invalid_format',
      timezone: 'invalid_format',
      sms_opted_in: 'invalid_type',
      meta_public: 'invalid_type',
      name_first: 'too_long',
      first_name: 'unknown_field',
    });
    const tz = r.json.errors.find((e: { meta: { field: string } }) => e.meta.field === 'timezone');
    expect(tz).toEqual({
      code: 'invalid_format',
      title: 'Invalid format',
      detail:
        'timezone must be an IANA timezone identifier (e.g. America/Chicago); UTC offsets are rejected',
      meta: { field: 'timezone' },
    });
    expect(sandbox.store.size).toBe(0);
  });

  it('refuses every offset spelling but accepts IANA names', async () => {
    for (const tz of ['UTC+5', 'GMT-03:00', '-0500', 'Z', 'Mars/Olympus']) {
      const r = await upsert({ unique_id: 'tz', timezone: tz });
      expect(r.status, tz).toBe(422);
    }
    expect((await upsert({ unique_id: 'tz', timezone: 'Europe/Paris' })).status).toBe(201);
  });

  it('bypass_validation=email_format skips only the email validator', async () => {
    const ok = await upsert(
      { unique_id: 'b1', email: 'odd@local' },
      {
        override: 'bypass_validation=email_format',
      },
    );
    expect(ok.status).toBe(201);
    const phone = await upsert(
      { unique_id: 'b2', phone_work: '12' },
      {
        override: 'bypass_validation=email_format',
      },
    );
    expect(phone.status).toBe(422);
    expect(phone.json.errors[0].meta.field).toBe('phone_work');
  });

  it('400 for a body that is not JSON or not a contact', async () => {
    const bad = await call('POST', PATH, { rawBody: '{"unique_id":' });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].code).toBe('invalid_json');
    const empty = await call('POST', PATH, { rawBody: '' });
    expect(empty.json.errors[0].code).toBe('body_required');
    const scalar = await upsert('hello');
    expect(scalar.json.errors[0].code).toBe('invalid_body');
  });
});

describe('bulk upsert', () => {
  it('403 bulk_override_required without the bulk flag, row count in meta', async () => {
    const r = await upsert({ items: [{ unique_id: 'a' }, { unique_id: 'b' }] });
    expect(r.status).toBe(403);
    expect(r.json.errors[0]).toEqual({
      code: 'bulk_override_required',
      title: 'Override required',
      detail: 'a bulk upsert (2 rows) needs X-Operator-Override: bulk',
      meta: { required_override: 'bulk', row_count: 2 },
    });
    expect(sandbox.store.size).toBe(0);
  });

  it('answers {items} in request order; a bad item fails alone', async () => {
    const existing = (await upsert({ unique_id: 'old', name_first: 'Old' })).json;
    const r = await upsert(
      {
        items: [
          { unique_id: 'new', email: 'new@example.com' },
          { unique_id: 'bad', email: 'broken' },
          { unique_id: 'old', name_last: 'Updated' },
        ],
      },
      { override: 'bulk' },
    );
    expect(r.status).toBe(200);
    const [created, failed, updated] = r.json.items;
    expect(r.json.items).toHaveLength(3);
    expect(created).toMatchObject({ unique_id: 'new', email: 'new@example.com' });
    expect(created.inserted_at).toBe(created.updated_at);
    expect(failed).toEqual({
      errors: [
        {
          code: 'invalid_format',
          title: 'Invalid format',
          detail:
            'items[1].email must be a valid email address (bypass with bypass_validation=email_format)',
          meta: { field: 'items[1].email', index: 1, status: 422 },
        },
      ],
    });
    expect(updated).toMatchObject({ id: existing.id, name_first: 'Old', name_last: 'Updated' });
    expect(updated.updated_at > updated.inserted_at).toBe(true);
    expect(sandbox.store.size).toBe(2);
    expect(sandbox.store.findByUniqueId('bad')).toBeUndefined();
  });

  it('accepts a bare array and sees earlier items of the same request', async () => {
    const r = await upsert(
      [
        { unique_id: 'dup', city: 'A' },
        { unique_id: 'dup', city: 'B' },
      ],
      {
        override: 'bulk',
      },
    );
    expect(r.status).toBe(200);
    expect(r.json.items[1]).toMatchObject({ id: r.json.items[0].id, city: 'B' });
    expect(sandbox.store.size).toBe(1);
  });

  it('400 bulk_limit_exceeded above maxBulkItems, 400 for an empty list', async () => {
    const items = [1, 2, 3, 4].map((i) => ({ unique_id: `u${i}` }));
    const r = await upsert({ items }, { override: 'bulk' });
    expect(r.status).toBe(400);
    expect(r.json.errors[0]).toMatchObject({
      code: 'bulk_limit_exceeded',
      meta: { max_items: 3, row_count: 4 },
    });
    const empty = await upsert({ items: [] }, { override: 'bulk' });
    expect(empty.status).toBe(400);
    expect(empty.json.errors[0].meta.field).toBe('items');
    expect(sandbox.store.size).toBe(0);
  });
});

describe('X-Operator-Override', () => {
  it('dry_run answers as if written, with X-Dry-Run, and stores nothing', async () => {
    const r = await upsert({ unique_id: 'dry', email: 'dry@example.com' }, { override: 'dry_run' });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-dry-run')).toBe('true');
    expect(r.json).toMatchObject({ unique_id: 'dry', email: 'dry@example.com' });
    expect(sandbox.store.size).toBe(0);

    const bulk = await upsert(
      { items: [{ unique_id: 'd1' }, { unique_id: 'd2' }] },
      { override: 'bulk, dry_run' },
    );
    expect(bulk.status).toBe(200);
    expect(bulk.json.items).toHaveLength(2);
    expect(sandbox.store.size).toBe(0);
  });

  it('dry_run on PATCH leaves the contact unchanged', async () => {
    const c = (await upsert({ unique_id: 'p', city: 'A' })).json;
    const r = await call('PATCH', `${PATH}/${c.id}`, { body: { city: 'B' }, override: 'dry_run' });
    expect(r.status).toBe(200);
    expect(r.json.city).toBe('B');
    expect(sandbox.store.get(c.id)?.city).toBe('A');
  });

  it('400 for an unknown flag or validator', async () => {
    const r = await upsert({ unique_id: 'x' }, { override: 'bulk,yolo' });
    expect(r.status).toBe(400);
    expect(r.json.errors[0]).toMatchObject({
      code: 'override_unknown',
      meta: { override: 'yolo' },
    });
    const v = await upsert({ unique_id: 'x' }, { override: 'bypass_validation=name_format' });
    expect(v.status).toBe(400);
    expect(v.json.errors[0]).toMatchObject({ code: 'override_invalid' });
    expect(sandbox.store.size).toBe(0);
  });

  it('403 scope_insufficient for a flag the token may not use', async () => {
    const r = await upsert({ unique_id: 'x' }, { token: 'no-dry-run-token', override: 'dry_run' });
    expect(r.status).toBe(403);
    expect(r.json.errors[0]).toMatchObject({
      code: 'scope_insufficient',
      meta: { override: 'dry_run' },
    });
    const phone = await upsert(
      { unique_id: 'x' },
      { token: 'no-dry-run-token', override: 'bypass_validation=phone_format' },
    );
    expect(phone.json.errors[0].meta.override).toBe('bypass_validation=phone_format');
    const allowed = await upsert(
      { unique_id: 'x', email: 'a@b' },
      { token: 'no-dry-run-token', override: 'bypass_validation=email_format' },
    );
    expect(allowed.status).toBe(201);
  });
  it('a flag goes only in the header (DO-1): in the query string 400, in the body 422', async () => {
    const query = await call('POST', `${PATH}?destructive=true`, { body: { unique_id: 'q' } });
    expect(query.status).toBe(400);
    expect(query.json.errors[0]).toMatchObject({
      code: 'parameter_unknown',
      meta: { parameter: 'destructive' },
    });
    expect(query.json.errors[0].detail).toContain('X-Operator-Override');
    const c = (await upsert({ unique_id: 'q' })).json;
    const patch = await call('PATCH', `${PATH}/${c.id}?force`, { body: { name_first: 'X' } });
    expect(patch.status).toBe(400);
    const del = await call('DELETE', `${PATH}/${c.id}?x-operator-override=destructive`);
    expect(del.status).toBe(400);
    const body = await upsert({ unique_id: 'b', destructive: true });
    expect(body.status).toBe(422);
    expect(body.json.errors[0]).toMatchObject({
      code: 'unknown_field',
      meta: { field: 'destructive' },
    });
    expect(body.json.errors[0].detail).toContain('X-Operator-Override');
    expect(sandbox.store.size).toBe(1);
    const header = await upsert({ unique_id: 'q', name_first: 'H' }, { override: 'destructive' });
    expect(header.status).toBe(201);
    expect(sandbox.store.get(c.id)).toMatchObject({ name_first: 'H' });
  });
});

describe('Idempotency-Key', () => {
  it('replays the stored answer for the same key and body without writing again', async () => {
    const key = randomUUID();
    const first = await upsert({ unique_id: 'idem', name_first: 'A' }, { key });
    expect(first.status).toBe(201);
    // same JSON, other key order
    const again = await call('POST', PATH, {
      key,
      rawBody: '{ "name_first": "A", "unique_id": "idem" }',
    });
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(sandbox.store.get(first.json.id)?.updated_at).toBe(first.json.updated_at);
    expect(sandbox.store.size).toBe(1);
  });

  it('409 idempotency_conflict for the same key with another body', async () => {
    const key = randomUUID();
    await upsert({ unique_id: 'idem', name_first: 'A' }, { key });
    const r = await upsert({ unique_id: 'idem', name_first: 'B' }, { key });
    expect(r.status).toBe(409);
    expect(r.json.errors[0]).toMatchObject({
      code: 'idempotency_conflict',
      meta: { idempotency_key: key },
    });
    expect(sandbox.store.findByUniqueId('idem')?.name_first).toBe('A');
  });

  it('400 for a key that is not a UUID; no key is fine', async () => {
    const r = await upsert({ unique_id: 'k' }, { key: 'abc' });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].code).toBe('idempotency_key_invalid');
    expect((await upsert({ unique_id: 'k' })).status).toBe(201);
  });

  it('does not keep failed answers: a corrected retry with the same key proceeds', async () => {
    const key = randomUUID();
    expect((await upsert({ unique_id: 'k', email: 'bad' }, { key })).status).toBe(422);
    const fixed = await upsert({ unique_id: 'k', email: 'k@example.com' }, { key });
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
    expect(sandbox.store.size).toBe(1);
  });
});

describe('PATCH, GET, DELETE by id', () => {
  it('PATCH updates by id with 200; meta_public is merged', async () => {
    const c = (await upsert({ unique_id: 'p', meta_public: { a: 1, b: 2 } })).json;
    const r = await call('PATCH', `${PATH}/${c.id}`, {
      body: { name_first: 'Pat', meta_public: { b: null, c: 3 } },
      key: randomUUID(),
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: c.id, name_first: 'Pat', meta_public: { a: 1, c: 3 } });
    expect(sandbox.store.get(c.id)?.name_first).toBe('Pat');
  });

  it('PATCH 404 for an unknown id, 422 naming the field, 409 for a taken unique_id', async () => {
    const missing = await call('PATCH', `${PATH}/${randomUUID()}`, { body: { city: 'X' } });
    expect(missing.status).toBe(404);
    expect(missing.json.errors[0].code).toBe('not_found');

    const a = (await upsert({ unique_id: 'a' })).json;
    await upsert({ unique_id: 'b' });
    const invalid = await call('PATCH', `${PATH}/${a.id}`, { body: { birthdate: '03/04/1990' } });
    expect(invalid.status).toBe(422);
    expect(invalid.json.errors[0].meta.field).toBe('birthdate');
    const taken = await call('PATCH', `${PATH}/${a.id}`, { body: { unique_id: 'b' } });
    expect(taken.status).toBe(409);
    expect(taken.json.errors[0].meta.field).toBe('unique_id');
  });

  it('GET by id, list with filters and paging', async () => {
    const c = (await upsert({ unique_id: 'g', email: 'g@example.com' })).json;
    await upsert({ unique_id: 'h' });
    await upsert({ unique_id: 'i' });

    const one = await call('GET', `${PATH}/${c.id}`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual(c);
    expect((await call('GET', `${PATH}/${randomUUID()}`)).status).toBe(404);

    const byEmail = await call('GET', `${PATH}?email=G%40EXAMPLE.com`);
    expect(byEmail.json).toEqual({ items: [c], next_cursor: null });
    const byUid = await call('GET', `${PATH}?filter[unique_id]=h`);
    expect(byUid.json.items.map((x: { unique_id: string }) => x.unique_id)).toEqual(['h']);

    const page1 = await call('GET', `${PATH}?limit=2`);
    expect(page1.json.items).toHaveLength(2);
    const page2 = await call('GET', `${PATH}?limit=2&cursor=${page1.json.next_cursor}`);
    expect(page2.json).toMatchObject({ items: [{ unique_id: 'i' }], next_cursor: null });

    const badFilter = await call('GET', `${PATH}?phone=1`);
    expect(badFilter.status).toBe(400);
    expect(badFilter.json.errors[0]).toMatchObject({ code: 'invalid_filter' });
  });

  it('DELETE needs destructive, then 204', async () => {
    const c = (await upsert({ unique_id: 'del' })).json;
    const refused = await call('DELETE', `${PATH}/${c.id}`);
    expect(refused.status).toBe(403);
    expect(refused.json.errors[0]).toMatchObject({
      code: 'override_required',
      meta: { required_override: 'destructive' },
    });
    const ok = await call('DELETE', `${PATH}/${c.id}`, { override: 'destructive' });
    expect(ok.status).toBe(204);
    expect(sandbox.store.size).toBe(0);
  });
});

describe('shared controls', () => {
  it('records requests and injects faults', async () => {
    sandbox.controls.inject({
      method: 'POST',
      path: PATH,
      faults: [{ kind: 'status', status: 429 }],
    });
    expect((await upsert({ unique_id: 'f' })).status).toBe(429);
    expect((await upsert({ unique_id: 'f' })).status).toBe(201);
    expect(sandbox.controls.requestCount({ method: 'POST', path: PATH })).toBe(2);
    expect(sandbox.controls.requests[0]?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
  });
});
