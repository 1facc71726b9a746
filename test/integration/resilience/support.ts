import { expect } from 'vitest';
import type { ProviderId } from '../../../src/model/contact.js';
import type { StartedSandbox } from '../../../src/sandbox/shared/server.js';
import type { Fault, RecordedRequest } from '../../../src/sandbox/shared/types.js';
import type { TestGateway } from '../../helpers/gateway.js';
import {
  INPUT_ERRORS,
  type OutcomeView,
  SUMMARY,
  upsertMany,
  upsertOne,
} from '../../helpers/operations.js';

/**
 * Env every gateway of these files starts with. The outbox (GATEWAY_OUTBOX, on by default) turns a
 * write whose retries ended on a retryable failure into QUEUED and delivers it later in the
 * background; these tests pin the call policy's own verdict (FAILED, retryable) and count every
 * request the sandboxes receive, so it is off here. The outbox has its own tests.
 */
export const POLICY_ONLY: Readonly<Record<string, string>> = { GATEWAY_OUTBOX: 'off' };

/** What a client reads of one provider's outcome. */
export const OUTCOME = `provider status remoteId attempts durationMs details
  error { code message httpStatus retryable details }`;
export const UPSERT = upsertOne(
  `contact { id email records { provider remoteId } } outcomes { ${OUTCOME} } ${INPUT_ERRORS}`,
);
export const UPSERT_MANY = upsertMany(
  `items { contact { id email } outcomes { ${OUTCOME} } ${INPUT_ERRORS} } ${SUMMARY}`,
);
export const PROVIDERS = `{ providers { provider mode circuit { state consecutiveFailures openedAt } } }`;

export type Outcome = Omit<OutcomeView, 'droppedFields' | 'request'> & { provider: ProviderId };
export interface Payload {
  contact: { id: string; email: string; records: Array<{ provider: string; remoteId: string }> };
  outcomes: Outcome[];
  errors: Array<{ field: string; code: string; message: string }>;
}
export interface Batch {
  items: Payload[];
  summary: { total: number; succeeded: number; failed: number; upstreamRequests: number };
}
export interface ProviderStatus {
  provider: ProviderId;
  mode: string;
  circuit: { state: string; consecutiveFailures: number; openedAt: string | null };
}

/** A sandbox as these tests use it: the request log, fault injection, and how much it stores. */
export type StoringSandbox = StartedSandbox & { readonly store: { readonly size: number } };

/**
 * One provider, as far as resilience is concerned: the write a single `upsertContact` of a new
 * email sends, where its contact ends up, and the error bodies that provider answers with.
 */
export interface ProviderCase {
  id: ProviderId;
  /** `<PREFIX>_TIMEOUT_MS`, `<PREFIX>_MAX_IN_FLIGHT`, `<PREFIX>_RATE_PER_SECOND`. */
  prefix: string;
  sandbox(t: TestGateway): StoringSandbox;
  /** The method and exact path (as sent, percent-encoded) of the write faults are injected on. */
  method: 'POST' | 'PATCH';
  path(email: string): string;
  /** Whether the sandbox holds a contact with this email. */
  holds(t: TestGateway, email: string): boolean;
  /** A 429 as the provider sends it, and the `error.code` the gateway reports for it. */
  tooMany(retryAfterSeconds: number): Fault;
  tooManyCode: string;
  /** A 400 validation failure as the provider sends it, and the code it is reported with. */
  badRequest: Fault;
  badRequestCode: string;
  /**
   * What the retry of a write whose first attempt was stored but never answered
   * (`reset-after-commit`) reports. See the comment on each case.
   */
  afterLostAnswer: 'CREATED' | 'UPDATED';
}

const retryAfter = (s: number) => ({ 'retry-after': String(s) });

export const CASES: readonly ProviderCase[] = [
  {
    id: 'NOTIFUSE',
    prefix: 'NOTIFUSE',
    sandbox: (t) => t.notifuse,
    method: 'POST',
    path: () => '/api/contacts.upsert',
    holds: (t, email) => t.notifuse.store.get(email) !== undefined,
    // Notifuse errors are `{"error": "<message>"}` with no code of their own.
    tooMany: (s) => ({
      kind: 'status',
      status: 429,
      headers: retryAfter(s),
      body: { error: 'too many requests' },
    }),
    tooManyCode: 'RATE_LIMITED',
    badRequest: {
      kind: 'status',
      status: 400,
      body: { error: 'invalid contact: external_id: must be at most 255 characters' },
    },
    badRequestCode: 'BAD_REQUEST',
    // contacts.upsert is keyed by email: the retry finds the contact the lost attempt created and
    // Notifuse answers `action: "update"`. The gateway cannot tell that the first attempt, not
    // someone else, created it, so it reports what the answer it got says.
    afterLostAnswer: 'UPDATED',
  },
  {
    id: 'DOTDIGITAL',
    prefix: 'DOTDIGITAL',
    sandbox: (t) => t.dotdigital,
    method: 'PATCH',
    path: (email) => `/contacts/v3/email/${encodeURIComponent(email)}`,
    holds: (t, email) => t.dotdigital.store.getByEmail(email) !== undefined,
    // The errorCode of Dotdigital's 429 is not documented (the sandbox's own is its invention),
    // so the fault carries only the documented headers.
    tooMany: (s) => ({
      kind: 'status',
      status: 429,
      headers: { ...retryAfter(s), 'x-ratelimit-scope': 'Medium', 'x-ratelimit-limit': '100' },
      body: { description: 'Too many requests' },
    }),
    tooManyCode: 'RATE_LIMITED',
    badRequest: {
      kind: 'status',
      status: 400,
      body: {
        errorCode: 'contacts:invalidId',
        description: 'The identifier is not valid',
        details: [],
      },
    },
    badRequestCode: 'contacts:invalidId',
    // PATCH /contacts/v3/email/{email} is an upsert: the retry meets the contact the lost attempt
    // created and Dotdigital answers 200 (updated), not 201.
    afterLostAnswer: 'UPDATED',
  },
  {
    id: 'SALESFORCE_MC',
    prefix: 'SFMC',
    sandbox: (t) => t.salesforceMc,
    method: 'POST',
    // Only the contacts path: the token request (/v2/token) goes to the same server.
    path: () => '/contacts/v1/contacts',
    holds: (t, email) => t.salesforceMc.store.get(email) !== undefined,
    // SF-9/SF-10: 429 with errorcode 50100, Retry-After in the header and the body.
    tooMany: (s) => ({
      kind: 'status',
      status: 429,
      headers: retryAfter(s),
      body: {
        message: 'Rate limit exceeded',
        errorcode: 50100,
        retryAfter: s,
        documentation:
          'https://developer.salesforce.com/docs/marketing/marketing-cloud/guide/error-handling.html',
      },
    }),
    tooManyCode: '50100',
    badRequest: {
      kind: 'status',
      status: 400,
      body: {
        message: 'Attribute Email Address has an invalid data type',
        errorcode: 10001,
        documentation: '',
      },
    },
    badRequestCode: '10001',
    // The contact key is the email: the retried POST finds the key the lost attempt created, and
    // SFMC (like SF-1's example) updates it and answers `isNewContactKey: false`.
    afterLostAnswer: 'UPDATED',
  },
  {
    id: 'DIGITAL_ONBOARDING',
    prefix: 'DIGITAL_ONBOARDING',
    sandbox: (t) => t.digitalOnboarding,
    method: 'POST',
    path: () => '/v2/partner/contacts',
    holds: (t, email) => t.digitalOnboarding.store.findByEmail(email) !== undefined,
    // DO-IOP documents only the RateLimit-* headers for a 429, no error code.
    tooMany: (s) => ({
      kind: 'status',
      status: 429,
      headers: { ...retryAfter(s), 'ratelimit-limit': '10', 'ratelimit-remaining': '0' },
      body: { errors: [{ title: 'Too Many Requests', detail: 'rate limit exceeded' }] },
    }),
    tooManyCode: 'RATE_LIMITED',
    badRequest: {
      kind: 'status',
      status: 400,
      body: {
        errors: [
          {
            code: 'invalid_body',
            title: 'Bad Request',
            detail: 'email is not a string',
            meta: { field: 'email' },
          },
        ],
      },
    },
    badRequestCode: 'invalid_body',
    // Every attempt carries the same Idempotency-Key, so Digital Onboarding replays the answer of
    // the attempt it stored (201, Idempotent-Replayed: true): CREATED, as it really was.
    afterLostAnswer: 'CREATED',
  },
];

/** Every GraphQL answer of a file, checked for transport errors. */
export async function gql<T>(
  t: TestGateway,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const res = await t.gql<T>(query, variables);
  expect(res.errors).toBeUndefined();
  expect(res.status).toBe(200);
  return res.data;
}

/** One `upsertContact`, with how long the gateway took to answer it (measured here). */
export async function upsert(
  t: TestGateway,
  input: Record<string, unknown>,
  providers: readonly ProviderId[],
): Promise<{ payload: Payload; ms: number; byProvider: Record<string, Outcome> }> {
  const start = performance.now();
  const data = await gql<{ upsertContact: Payload }>(t, UPSERT, {
    input,
    options: { providers },
  });
  const ms = performance.now() - start;
  const payload = data.upsertContact;
  return {
    payload,
    ms,
    byProvider: Object.fromEntries(payload.outcomes.map((o) => [o.provider, o])),
  };
}

export async function circuits(t: TestGateway): Promise<Record<string, ProviderStatus['circuit']>> {
  const data = await gql<{ providers: ProviderStatus[] }>(t, PROVIDERS);
  return Object.fromEntries(data.providers.map((p) => [p.provider, p.circuit]));
}

/** The requests a sandbox received for one method and path, oldest first. */
export function received(sandbox: StartedSandbox, method: string, path: string): RecordedRequest[] {
  return sandbox.controls.requests.filter((r) => r.method === method && r.path === path);
}

/** Time between consecutive arrivals, in ms. */
export function gaps(requests: readonly RecordedRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.at - requests[i]!.at);
}

/** Measurements for the closing note, printed once per file when RESILIENCE_REPORT is set. */
export const measured: Array<Record<string, unknown>> = [];
export function note(row: Record<string, unknown>): void {
  measured.push(row);
}
export function printNotes(title: string): void {
  if (process.env['RESILIENCE_REPORT'] && measured.length > 0) {
    const rows = measured.map((m) => JSON.stringify(m)).sort((a, b) => a.localeCompare(b));
    console.log(`${title}\n${rows.join('\n')}`);
  }
}
