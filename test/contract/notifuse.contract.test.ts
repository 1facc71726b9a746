import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifuseAdapter } from '../../src/providers/notifuse/index.js';
import type { ProviderAdapter } from '../../src/providers/types.js';
import { type NotifuseSandbox, startNotifuseSandbox } from '../../src/sandbox/notifuse/index.js';
import { adapterConfig, adapterDeps, ctx, item } from '../helpers/adapter.js';

/**
 * Everything the Notifuse adapter sends must validate against Notifuse's own OpenAPI document,
 * tightened so that a key the document does not define fails too.
 */
const doc = JSON.parse(
  readFileSync(new URL('../../src/specs/notifuse.openapi.json', import.meta.url), 'utf8'),
);
doc.components.schemas.ContactInput.additionalProperties = false;
doc.components.schemas.UpdateContactListStatusRequest.additionalProperties = false;

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('float', true);
ajv.addSchema(doc, 'notifuse');

function requestSchema(path: string): ValidateFunction {
  return ajv.compile({ $ref: `notifuse#/components/schemas/${path}` });
}
const validators: Record<string, ValidateFunction> = {
  '/api/contacts.upsert': requestSchema('UpsertContactRequest'),
  '/api/contacts.import': requestSchema('BatchImportContactsRequest'),
  '/api/contactLists.updateStatus': requestSchema('UpdateContactListStatusRequest'),
};

function queryParams(path: string): Array<{ name: string; required?: boolean }> {
  return doc.paths[path].get.parameters;
}

let sandbox: NotifuseSandbox;
let adapter: ProviderAdapter;

beforeAll(async () => {
  sandbox = await startNotifuseSandbox({ apiKey: 'contract-key', workspaceId: 'ws_contract' });
  adapter = createNotifuseAdapter(
    adapterConfig.notifuse(
      sandbox.url,
      { apiKey: 'contract-key', workspaceId: 'ws_contract' },
      { customFieldMap: { plan: 'custom_string_1', score: 'custom_number_1' } },
    ),
    adapterDeps(),
  );
});
afterAll(async () => {
  await adapter.close();
  await sandbox.close();
});

describe('Notifuse adapter requests validate against notifuse.openapi.json', () => {
  it('sends schema-valid upserts, imports and reads for a spread of inputs', async () => {
    const full = {
      email: 'full@example.com',
      externalId: 'crm-1',
      phone: '+14155550123',
      firstName: 'Ada',
      lastName: 'Lovelace',
      jobTitle: 'Analyst',
      timezone: 'Europe/London',
      language: 'en-GB',
      address: {
        line1: '1 Main',
        line2: 'Flat 2',
        state: 'London',
        postalCode: 'NW1',
        country: 'GB',
      },
      customFields: {
        plan: 'pro',
        score: 4.5,
        custom_json_2: { tags: ['a'] },
        custom_datetime_3: '2024-05-01T09:00:00Z',
      },
      birthdate: '1990-01-01',
      homePhone: '+14155550124',
    };
    await adapter.upsertMany([item(full)], ctx());
    await adapter.upsertMany(
      [item({ email: 'full@example.com', firstName: null, address: null, customFields: null })],
      ctx(),
    );
    await adapter.upsertMany(
      [
        item(
          { email: 'b1@example.com', firstName: 'B' },
          { options: { notifuse: { subscribeToLists: ['news'] } } },
        ),
        item(
          { email: 'b2@example.com', lastName: 'C' },
          { options: { notifuse: { subscribeToLists: ['news'] } } },
        ),
        item({ email: 'b3@example.com', customFields: { plan: 'free' } }),
        item({ email: 'b4@example.com', firstName: null }),
        // passThrough (#15 item 9) inside an import body.
        item(
          { email: 'b5@example.com' },
          { options: { notifuse: { passThrough: { custom_string_5: 'extra' } } } },
        ),
      ],
      ctx(),
    );
    await adapter.upsertMany(
      [
        item(
          { email: 'pt1@example.com', firstName: 'P' },
          { options: { notifuse: { passThrough: { full_name: 'P T', custom_number_5: 3 } } } },
        ),
      ],
      ctx(),
    );
    await adapter.updateMany(
      [item({ lastName: 'Byron' }, { remoteId: 'full@example.com' })],
      ctx(),
    );
    // listStatuses (#15 item 9): contactLists.updateStatus after the write, single and batched.
    await adapter.upsertMany(
      [
        item(
          { email: 'ls1@example.com' },
          {
            options: {
              notifuse: {
                subscribeToLists: ['news'],
                listStatuses: [
                  { listId: 'news', status: 'pending' },
                  { listId: 'offers', status: 'unsubscribed' },
                ],
              },
            },
          },
        ),
        item(
          { email: 'ls2@example.com' },
          {
            options: {
              notifuse: {
                subscribeToLists: ['news'],
                listStatuses: [{ listId: 'news', status: 'complained' }],
              },
            },
          },
        ),
      ],
      ctx(),
    );
    await adapter.readMany(
      [
        { by: 'email', value: 'full@example.com' },
        { by: 'externalId', value: 'crm-1' },
      ],
      ctx(),
    );

    const requests = sandbox.controls.requests;
    const paths = requests.map((r) => `${r.method} ${r.path}`);
    expect(paths.filter((p) => p === 'POST /api/contacts.upsert')).toHaveLength(5);
    expect(paths.filter((p) => p === 'POST /api/contacts.import')).toHaveLength(3);
    expect(paths.filter((p) => p === 'POST /api/contactLists.updateStatus')).toHaveLength(3);
    expect(paths.filter((p) => p.startsWith('GET '))).toHaveLength(2);

    for (const r of requests) {
      expect(r.headers['authorization']).toBe('Bearer contract-key');
      if (r.method === 'POST') {
        expect(r.headers['content-type']).toBe('application/json');
        const validate = validators[r.path]!;
        const ok = validate(r.body);
        expect(ok, `${r.path}: ${ajv.errorsText(validate.errors)}\n${r.rawBody}`).toBe(true);
      } else {
        for (const p of queryParams(r.path)) {
          if (p.required) {
            expect(r.query[p.name], `${r.path} ?${p.name}`).toBeTruthy();
          }
        }
        expect(
          Object.keys(r.query).every((k) => queryParams(r.path).some((p) => p.name === k)),
        ).toBe(true);
      }
    }
  });

  it('the list status schema catches what Notifuse would refuse', () => {
    const validate = validators['/api/contactLists.updateStatus']!;
    const ok = { workspace_id: 'w', email: 'a@x.io', list_id: 'news', status: 'pending' };
    expect(validate(ok)).toBe(true);
    expect(validate({ ...ok, status: 'PENDING' })).toBe(false);
    expect(validate({ ...ok, list_id: undefined })).toBe(false);
    expect(validate({ ...ok, extra: 1 })).toBe(false);
  });

  it('the tightened schema does catch a key Notifuse does not define', () => {
    const validate = validators['/api/contacts.upsert']!;
    expect(validate({ workspace_id: 'w', contact: { email: 'a@x.io', lifetime_value: 3 } })).toBe(
      false,
    );
    expect(validate({ workspace_id: 'w', contact: { email: 'a@x.io', first_name: null } })).toBe(
      true,
    );
  });
});
