import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDotdigitalAdapter } from '../../src/providers/dotdigital/index.js';
import { dotdigitalDocument } from '../../src/providers/dotdigital/openapi.js';
import type { ProviderAdapter } from '../../src/providers/types.js';
import {
  type DotdigitalSandbox,
  startDotdigitalSandbox,
} from '../../src/sandbox/dotdigital/index.js';
import { adapterConfig, adapterDeps, ctx, item } from '../helpers/adapter.js';

/**
 * Everything the Dotdigital adapter sends must validate against Dotdigital's own OpenAPI document
 * (`updateContactRequest` for PATCH, `v3_import_body` for the import), with the path parameters
 * checked against their patterns and lengths.
 */
// The document with its two in-memory patches (src/providers/dotdigital/openapi.ts): import identifiers may hold
// `contactId` as an integer, and `resubscribeOptions` is allowed where the document describes it.
// PATCH bodies are checked separately never to carry a contactId.
const doc = dotdigitalDocument();

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'dotdigital');

const schema = (name: string): ValidateFunction =>
  ajv.compile({ $ref: `dotdigital#/components/schemas/${name}` });
const validatePatch = schema('updateContactRequest');
const validateImport = schema('v3_import_body');

/** The spec's allOf chains cannot say `additionalProperties: false`; these are its top-level keys. */
const BODY_KEYS = [
  'identifiers',
  'dataFields',
  'channelProperties',
  'lists',
  'preferences',
  'consentRecords',
];

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is read as data
const contactPath = doc.paths['/contacts/v3/{identifier}/{value}'] as any;
const pathParam = (name: string) =>
  (contactPath.patch.parameters as Array<{ name: string; in: string; schema: unknown }>).find(
    (p) => p.in === 'path' && p.name === name,
  )!.schema;
const validateIdentifierParam = ajv.compile(pathParam('identifier') as object);
const validateValueParam = ajv.compile(pathParam('value') as object);
const mergeOptionParam = (
  contactPath.patch.parameters as Array<{ name: string; schema: { enum: string[] } }>
).find((p) => p.name === 'merge-option')!.schema;

let sandbox: DotdigitalSandbox;
let adapter: ProviderAdapter;

const consent = {
  text: 'Yes, send me the newsletter',
  dateTimeConsented: '2024-05-01T09:00:00Z',
  url: 'https://example.com/signup',
  ipAddress: '2001:db8::1',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
};

beforeAll(async () => {
  sandbox = await startDotdigitalSandbox({
    username: 'apiuser-contract@apiconnector.com',
    password: 'contract-password',
    importProcessingMs: 0,
  });
  adapter = createDotdigitalAdapter(
    adapterConfig.dotdigital(
      sandbox.url,
      { username: 'apiuser-contract@apiconnector.com', password: 'contract-password' },
      { dataFieldMap: { 'customFields.plan': 'PLAN' }, importMaxWaitMs: 5_000 },
    ),
    adapterDeps(),
  );
});
afterAll(async () => {
  await adapter.close();
  await sandbox.close();
});

describe('Dotdigital adapter requests validate against dotdigital-contacts-v3.openapi.json', () => {
  it('sends schema-valid PATCHes, imports and reads for a spread of inputs', async () => {
    const full = {
      email: 'full+tag@example.com',
      phone: '+447123123123',
      firstName: 'Ada',
      lastName: 'Lovelace',
      address: { postalCode: 'NW1 6XE', line1: 'dropped' },
      emailFormat: 'PLAIN_TEXT' as const,
      emailConsent: { status: 'SUBSCRIBED' as const, optInType: 'VERIFIED_DOUBLE' as const },
      smsConsent: { status: 'SUBSCRIBED' as const },
      customFields: { plan: 'pro', score: 4 },
    };
    const [created] = await adapter.upsertMany(
      [
        item(full, {
          options: {
            dotdigital: {
              mergeOption: 'OVERWRITE',
              lists: [1],
              preferences: [{ id: 1, isOptedIn: true }],
              consentRecords: [consent],
            },
          },
        }),
      ],
      ctx(),
    );
    const contactId = created!.remoteId!;
    await adapter.upsertMany(
      [
        item(
          { firstName: null, address: null, customFields: null, emailConsent: null },
          {
            remoteId: contactId,
            options: { dotdigital: { mergeOption: 'OVERWRITE_IF_NOT_EMPTY' } },
          },
        ),
      ],
      ctx(),
    );
    await adapter.upsertMany(
      [item({ phone: '+14155550123', lastName: 'Mobile' }, { known: {} })],
      ctx(),
    );
    await adapter.upsertMany(
      [
        item({ email: 'b1@example.com', firstName: 'B', emailFormat: 'HTML' }),
        item(
          { email: 'b2@example.com', emailConsent: { status: 'UNSUBSCRIBED' } },
          { options: { dotdigital: { lists: [1, 2], consentRecords: [consent] } } },
        ),
        item({ phone: '+14155550199', smsConsent: { status: 'UNSUBSCRIBED' } }),
        item({ lastName: 'ById', customFields: { plan: null } }, { remoteId: contactId }),
        item(
          { email: 'b3@example.com', firstName: 'C' },
          { options: { dotdigital: { mergeOption: 'OVERWRITE_IF_EMPTY' } } },
        ),
        item(
          { email: 'b4@example.com', lastName: 'D' },
          {
            options: {
              dotdigital: {
                mergeOption: 'OVERWRITE_IF_EMPTY',
                preferences: [{ id: 2, isOptedIn: false }],
              },
            },
          },
        ),
      ],
      ctx(),
    );
    // passThrough (#15 item 9) in a single PATCH and in an import.
    const whatsApp = { channelProperties: { whatsApp: { status: 'subscribed' } } };
    await adapter.upsertMany(
      [
        item(
          { email: 'pt1@example.com', phone: '+447123123124' },
          {
            options: {
              dotdigital: {
                passThrough: {
                  channelProperties: {
                    whatsApp: { status: 'subscribed' },
                    email: { resubscribeOptions: { resubscribeWithNoChallenge: true } },
                  },
                },
              },
            },
          },
        ),
      ],
      ctx(),
    );
    await adapter.upsertMany(
      [
        item({ email: 'pt2@example.com' }, { options: { dotdigital: { passThrough: whatsApp } } }),
        item({ email: 'pt3@example.com' }, { options: { dotdigital: { passThrough: whatsApp } } }),
      ],
      ctx(),
    );
    await adapter.updateMany([item({ lastName: 'Byron' }, { remoteId: contactId })], ctx());
    await adapter.readMany(
      [
        { by: 'email', value: 'full+tag@example.com' },
        { by: 'remoteId', value: contactId },
        { by: 'email', value: 'missing@example.com' },
      ],
      ctx(),
    );

    const requests = sandbox.controls.requests;
    const count = (m: string, p: RegExp) =>
      requests.filter((r) => r.method === m && p.test(r.path)).length;
    expect(count('PATCH', /^\/contacts\/v3\/(email|contactId|mobileNumber)\//)).toBe(5);
    expect(count('PUT', /^\/contacts\/v3\/import$/)).toBe(3);
    expect(count('GET', /^\/contacts\/v3\/import\//)).toBeGreaterThanOrEqual(2);
    expect(count('GET', /^\/contacts\/v3\/(email|contactId)\//)).toBe(3);

    for (const r of requests) {
      expect(r.headers['authorization']).toBe(
        `Basic ${Buffer.from('apiuser-contract@apiconnector.com:contract-password').toString('base64')}`,
      );
      const single = /^\/contacts\/v3\/([^/]+)\/([^/]+)$/.exec(r.path);
      if (single && single[1] !== 'import') {
        expect(validateIdentifierParam(single[1]), `identifier ${single[1]}`).toBe(true);
        const value = decodeURIComponent(single[2]!);
        expect(validateValueParam(value), `value ${value}`).toBe(true);
        // Percent-encoded exactly once, as encodeURIComponent does.
        expect(single[2]).toBe(encodeURIComponent(value));
        if (single[1] === 'contactId') {
          expect(value).toMatch(/^\d+$/);
        }
      }
      if (r.method === 'PATCH') {
        expect(r.headers['content-type']).toBe('application/json');
        const ok = validatePatch(r.body);
        expect(ok, `${r.path}: ${ajv.errorsText(validatePatch.errors)}\n${r.rawBody}`).toBe(true);
        const body = r.body as Record<string, unknown> & { identifiers?: Record<string, unknown> };
        expect(
          Object.keys(body).every((k) => BODY_KEYS.includes(k)),
          r.rawBody,
        ).toBe(true);
        expect(Object.keys(body.identifiers ?? {}).every((k) => k !== 'contactId')).toBe(true);
        for (const [k, v] of Object.entries(r.query)) {
          expect(k).toBe('merge-option');
          expect(mergeOptionParam.enum).toContain(v);
        }
      }
      if (r.method === 'PUT') {
        const ok = validateImport(r.body);
        expect(ok, `${ajv.errorsText(validateImport.errors)}\n${r.rawBody}`).toBe(true);
        for (const c of (r.body as { contacts: Array<Record<string, unknown>> }).contacts) {
          expect(
            Object.keys(c).every((k) => k === 'matchIdentifier' || BODY_KEYS.includes(k)),
          ).toBe(true);
          const ids = c['identifiers'] as Record<string, unknown>;
          expect(ids[c['matchIdentifier'] as string], r.rawBody).toBeDefined();
        }
      }
      if (r.method === 'GET') {
        expect(r.body).toBeUndefined();
      }
    }
    const mergeOptions = requests
      .filter((r) => r.method === 'PUT')
      .map((r) => (r.body as { mergeOption?: string }).mergeOption);
    expect(mergeOptions.sort()).toEqual(['overwriteIfEmpty', undefined, undefined].sort());
    expect(
      requests.filter((r) => r.method === 'PATCH').map((r) => r.query['merge-option']),
    ).toEqual(['overwrite', 'overwrite-if-not-empty', undefined, undefined, undefined]);
  });

  it('the checks do catch what Dotdigital would refuse', () => {
    expect(validatePatch({ channelProperties: { email: { emailType: 'Html' } } })).toBe(false);
    expect(validatePatch({ channelProperties: { email: { status: 'pendingOptIn' } } })).toBe(false);
    expect(validatePatch({ lists: [] })).toBe(false);
    expect(validatePatch({ consentRecords: [{ ...consent, ipAddress: 'nope' }] })).toBe(false);
    expect(validateImport({ mergeOption: 'overwrite-if-empty', contacts: [] })).toBe(false);
    expect(validateImport({ contacts: [{ identifiers: { email: 'a@x.io' } }] })).toBe(false);
    expect(validateIdentifierParam('e/mail')).toBe(false);
    expect(validateValueParam('x'.repeat(257))).toBe(false);
  });
});
