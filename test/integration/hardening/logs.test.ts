import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import {
  type RunningSandboxes,
  SANDBOX_CREDENTIALS,
  startSandboxes,
} from '../../../src/sandbox-mode.js';
import { createMemoryIdentityStore } from '../../../src/store/identity.js';
import { bearer, FULL_KEY, KEYS_ENV, READ_KEY, WRITE_KEY } from './keys.js';

/**
 * A whole session against a hardened gateway, logged at `trace` (the most a process ever writes):
 * authenticated and refused calls, writes and reads with contact PII reaching every provider
 * sandbox, a provider failure, an unexpected error, every limit, a rate limit. Afterwards the log
 * holds no API key (configured or presented), no provider credential and no contact PII.
 */
const PII = {
  email: 'grace.hopper@navy.example.com',
  phone: '+14155552671',
  firstName: 'Gracelyn',
  lastName: 'Hopperton',
  birthdate: '1906-12-09',
  address: { line1: '1 Cobol Way', city: 'Arlington', postalCode: 'VA 22201', country: 'US' },
};
const SECOND_EMAIL = 'ada.lovelace@engine.example.org';
const WRONG_KEY = 'test-wrong-key-0123456789abcdef';

const { notifuse, dotdigital, salesforceMc, digitalOnboarding } = SANDBOX_CREDENTIALS;
const SECRETS = [
  FULL_KEY,
  READ_KEY,
  WRITE_KEY,
  WRONG_KEY,
  notifuse.apiKey,
  dotdigital.password,
  Buffer.from(`${dotdigital.username}:${dotdigital.password}`).toString('base64'),
  salesforceMc.clientSecret,
  digitalOnboarding.token,
  'hunter2',
];
const PII_VALUES = [
  PII.email,
  PII.phone,
  PII.phone.slice(1),
  PII.firstName,
  PII.lastName,
  PII.birthdate,
  PII.address.line1,
  PII.address.postalCode,
  SECOND_EMAIL,
];

describe('a log capture of a whole session', () => {
  const lines: string[] = [];
  let sandboxes: RunningSandboxes;
  let gateway: Gateway;
  let failClaims = false;

  beforeAll(async () => {
    sandboxes = await startSandboxes(
      loadConfig({
        ...KEYS_ENV,
        NODE_ENV: 'production',
        GATEWAY_RATE_LIMIT_PER_MINUTE: '25',
        GATEWAY_MAX_BODY_BYTES: '8192',
        MAX_BATCH_INPUTS: '5',
      }),
    );
    const store = createMemoryIdentityStore();
    const claim = store.claim.bind(store);
    store.claim = (...args) =>
      failClaims
        ? Promise.reject(
            new Error(
              `duplicate key for ${PII.email} / ${PII.phone} at postgres://app:hunter2@db/prod (Authorization: Bearer ${FULL_KEY})`,
            ),
          )
        : claim(...args);
    gateway = createGateway(sandboxes.config, {
      store,
      sandboxed: sandboxes.sandboxed,
      logger: createLogger('trace', {
        write: (l: string) => lines.push(l),
      } as unknown as NodeJS.WritableStream),
    });

    const gql = (
      query: string,
      variables: Record<string, unknown>,
      headers: Record<string, string>,
    ) =>
      gateway.yoga.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
    const UPSERT = `mutation Upsert($input: ContactInput!, $options: WriteOptions) {
      upsertContact(input: $input, options: $options) {
        contact { id email phone firstName } outcomes { provider status request error { code message } } errors { field } } }`;

    // Writes with PII to every provider, a dry run (wire requests carry credentials), reads back.
    const written = (await (
      await gql(UPSERT, { input: PII }, { ...bearer(FULL_KEY), 'idempotency-key': 'log-1' })
    ).json()) as { data: { upsertContact: { contact: { id: string } } } };
    await gql(
      UPSERT,
      { input: { ...PII, jobTitle: 'Admiral' }, options: { dryRun: true } },
      bearer(WRITE_KEY),
    );
    await gql(
      `mutation($id: ID!) { updateContact(id: $id, patch: { firstName: "${PII.firstName}x" }) { outcomes { status } } }`,
      { id: written.data.upsertContact.contact.id },
      bearer(FULL_KEY),
    );
    await gql(
      'query($e: [String!]) { contacts(emails: $e) { id email phone firstName lastName address { line1 } } }',
      { e: [PII.email, SECOND_EMAIL] },
      bearer(READ_KEY),
    );
    await gql(
      'mutation($i: [ContactInput!]!) { upsertContacts(inputs: $i) { summary { total } } }',
      {
        i: [
          { email: SECOND_EMAIL, phone: PII.phone },
          { email: 'broken', firstName: PII.firstName },
        ],
      },
      bearer(FULL_KEY),
    );

    // A provider failing, with PII in its error body.
    sandboxes.sandboxes
      .find((s) => s.provider === 'NOTIFUSE')!
      .sandbox.controls.inject({
        faults: [{ kind: 'status', status: 500, body: { error: `cannot store ${PII.email}` } }],
      });
    await gql(UPSERT, { input: { email: PII.email, lastName: PII.lastName } }, bearer(FULL_KEY));

    // Refusals: no key, a wrong key, a missing scope, every limit, an oversized body.
    await gql('{ providers { provider } }', {}, {});
    await gql('{ providers { provider } }', {}, bearer(WRONG_KEY));
    await gql(UPSERT, { input: PII }, bearer(READ_KEY));
    await gql(
      `{ contact(email: "${PII.email}") { readErrors { error { ... on ProviderError { details } } } } a: providers { provider } }`,
      {},
      bearer(FULL_KEY),
    );
    await gql(
      `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: providers { provider }`).join(' ')} }`,
      {},
      bearer(FULL_KEY),
    );
    await gql(
      'mutation($i: [ContactInput!]!) { upsertContacts(inputs: $i) { summary { total } } }',
      { i: Array.from({ length: 6 }, (_, i) => ({ email: `${i}.${PII.email}` })) },
      bearer(FULL_KEY),
    );
    await gql(UPSERT, { input: { ...PII, jobTitle: 'x'.repeat(9000) } }, bearer(FULL_KEY));
    await gql(`{ contactz(email: "${PII.email}") { id } }`, {}, bearer(FULL_KEY));

    // An unexpected error whose message quotes PII and credentials.
    failClaims = true;
    await gql(UPSERT, { input: { email: PII.email, phone: PII.phone } }, bearer(FULL_KEY));
    failClaims = false;

    // Past the rate limit.
    for (let i = 0; i < 30; i++) {
      await gql('{ __typename }', {}, bearer(READ_KEY));
    }
  });

  afterAll(async () => {
    await gateway.close();
    await sandboxes.close();
  });

  it('recorded the session (the checks below are not vacuous)', () => {
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = entries.filter((e) => e['msg'] === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(40);
    expect(new Set(requests.map((r) => r['status']))).toEqual(new Set([200, 401, 413, 429]));
    expect(new Set(requests.map((r) => r['keyName']))).toEqual(
      new Set([null, 'partner', 'reader', 'writer']),
    );
    expect(entries.some((e) => e['msg'] === 'provider write failed')).toBe(true);
    expect(entries.some((e) => e['level'] === 50 && typeof e['requestId'] === 'string')).toBe(true);
    expect(entries.some((e) => e['level'] === 20)).toBe(true);
  });

  it('holds no API key and no provider credential', () => {
    const log = lines.join('\n');
    for (const secret of SECRETS) {
      expect(log, 'a secret reached the log').not.toContain(secret);
    }
  });

  it('holds no contact PII (emails, phones, names, birthdates, addresses)', () => {
    const log = lines.join('\n');
    for (const value of PII_VALUES) {
      expect(log, 'PII reached the log').not.toContain(value);
    }
    expect(log).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.example\.(com|org)/);
  });

  it('stamps one request id on every line written while serving a request', () => {
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const during = entries.filter((e) => e['level'] !== 30 || e['msg'] !== 'request');
    expect(during.every((e) => typeof e['requestId'] === 'string')).toBe(true);
  });
});
