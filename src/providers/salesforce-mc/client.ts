import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import {
  type CallStats,
  createHttpClient,
  describeRequest,
  type HttpClient,
  type HttpOptions,
  type HttpRequest,
  type HttpResponse,
} from '../../http/client.js';
import { clipMessage, retryAfterMs } from '../../http/status.js';
import { answeredError, statusIsTransient, type UpstreamError } from '../../model/errors.js';
import type { WireRequest } from '../../model/outcome.js';
import { answersOf, bodyRequest, expectStatus, withSignal } from '../wire.js';
import { createTokenSource, type TokenSource } from './auth.js';
import type { SalesforceMcConfig } from './config.js';
import {
  type ContactKeySearchResponse,
  ContactKeySearchResponseSchema,
  type ContactWriteBody,
  type ContactWriteResponse,
  ContactWriteResponseSchema,
  type EmailSearchBody,
  type EmailSearchResponse,
  EmailSearchResponseSchema,
  RestErrorSchema,
  resultMessageText,
} from './wire.js';

export const SFMC_PATHS = {
  contacts: '/contacts/v1/contacts',
  emailSearch: '/contacts/v1/addresses/email/search',
  contactKeySearch: '/contacts/v1/addresses/search/ContactKey',
} as const;

/** SF-10 codes whose retryability differs from what the HTTP status alone says. */
const RETRYABLE_BY_CODE: ReadonlyMap<number, boolean> = new Map([
  [50100, true], // 429 rate limited: honour Retry-After
  [50200, false], // 429 temporarily blocked (too many concurrent requests): contact support
  [50300, true], // 503 unavailable: honour Retry-After
]);

/**
 * A REST error (`{message, errorcode, documentation}`, SF-9/SF-10; 400 aggregates list
 * `additionalErrors`; Contacts envelopes list `resultMessages`). The outcome code is SFMC's own
 * `errorcode` when it has a non-zero one (`50100`), else the gateway's reading of the status.
 * Retryability follows the status, except 50100/50300 (yes) and 50200 (no), and 596 (no: the
 * service does not exist). `Retry-After` (header, or the body's `retryAfter`) goes into details.
 */
export function sfmcError(res: HttpResponse): UpstreamError {
  const parsed = RestErrorSchema.safeParse(res.json);
  const body = parsed.success ? parsed.data : null;
  const errorcode = typeof body?.errorcode === 'number' ? body.errorcode : null;
  const parts = [
    body?.message ?? '',
    ...(body?.additionalErrors ?? []).map((e) =>
      [e.errorcode ? String(e.errorcode) : '', e.message ?? ''].filter(Boolean).join(': '),
    ),
    ...(body?.resultMessages ?? []).map(resultMessageText),
  ].filter((s) => s !== '');
  const text = parts.length > 0 ? parts.join('; ') : res.text.trim() || `HTTP ${res.status}`;
  const transient =
    res.status === 596 ? false : errorcode !== null ? RETRYABLE_BY_CODE.get(errorcode) : undefined;
  const retryable = transient ?? statusIsTransient(res.status);
  const details: Record<string, unknown> = {};
  if (errorcode !== null) {
    details['errorcode'] = errorcode;
  }
  let wait = retryAfterMs(res.headers);
  const bodyWait = Number(body?.retryAfter);
  if (wait === null && body?.retryAfter !== undefined && Number.isFinite(bodyWait)) {
    wait = Math.max(0, bodyWait * 1000);
  }
  if (wait !== null && retryable) {
    details['retryAfterMs'] = wait;
  }
  if ((body?.additionalErrors ?? []).length > 0) {
    details['additionalErrors'] = body!.additionalErrors!.map((e) => ({
      errorcode: e.errorcode ?? null,
      message: clipMessage(e.message ?? ''),
    }));
  }
  return answeredError('SALESFORCE_MC', {
    ...(errorcode ? { code: String(errorcode) } : {}),
    ...(transient === undefined ? {} : { transient }),
    message: `Salesforce MC answered ${res.status}${errorcode ? ` (errorcode ${errorcode})` : ''}: ${clipMessage(text)}`,
    httpStatus: res.status,
    details: Object.keys(details).length > 0 ? details : null,
  });
}

const { malformed, parse } = answersOf('SALESFORCE_MC', 'Salesforce MC');

/**
 * The REST base before any token told it: the tenant's REST host for a tenant auth host
 * (`{sub}.auth.marketingcloudapis.com` → `{sub}.rest.marketingcloudapis.com`, SF-12), else the
 * auth base itself (one server for both, as in the sandbox). Only dry runs and status pages use it.
 */
export function guessRestBase(authUrl: string): string {
  const url = new URL(authUrl);
  const tenant = /^([a-z0-9-]+)\.auth\.marketingcloudapis\.com$/i.exec(url.hostname);
  if (tenant) {
    return `https://${tenant[1]}.rest.marketingcloudapis.com`;
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export interface SfmcClientDeps {
  http: HttpOptions;
  dispatcher?: Dispatcher;
}

/** Counts the contact requests one write sends (401 retries and POST→PATCH included). */
export interface SendCounter {
  sent: number;
}

/**
 * The only part of the adapter that knows SFMC's hosts, paths, auth and status codes. The REST
 * base is learned from the token (`rest_instance_url`), so REST pools are made per base on first
 * use. On a 401 the token is refreshed once and the request sent once more (SF-REST, SF-SDK).
 */
export function createSfmcClient(config: SalesforceMcConfig, deps: SfmcClientDeps) {
  const shared = deps.dispatcher ? { dispatcher: deps.dispatcher } : {};
  const auth = createHttpClient({
    provider: 'SALESFORCE_MC',
    baseUrl: config.authUrl,
    http: deps.http,
    ...shared,
  });
  const tokens: TokenSource = createTokenSource(config, auth);
  const restClients = new Map<string, HttpClient>();
  const guessed = guessRestBase(config.authUrl);

  function rest(base: string): HttpClient {
    let client = restClients.get(base);
    if (!client) {
      client = createHttpClient({
        provider: 'SALESFORCE_MC',
        baseUrl: base,
        http: deps.http,
        ...shared,
      });
      restClients.set(base, client);
    }
    return client;
  }

  /**
   * The body of an answer of status `ok`, read with `schema`; a body that is not even an object is
   * "not `kind`" (the answer's general kind), one of another shape "not `what`".
   */
  function objectAnswer<S extends z.ZodType>(
    res: HttpResponse,
    ok: readonly number[],
    schema: S,
    what: string,
    kind = what,
  ): z.infer<S> {
    expectStatus(res, ok, sfmcError);
    if (res.json === null || typeof res.json !== 'object') {
      throw malformed(res, `a body that is not ${kind}`);
    }
    return parse(res, schema, what);
  }

  async function send(
    req: HttpRequest,
    stats: CallStats,
    signal: AbortSignal | undefined,
    counter: SendCounter,
  ): Promise<HttpResponse> {
    const once = async () => {
      const token = await tokens.get(stats);
      counter.sent += 1;
      const res = await rest(token.restUrl).request(
        withSignal(
          { ...req, headers: { ...req.headers, authorization: `Bearer ${token.accessToken}` } },
          signal,
        ),
        stats,
      );
      return { res, token };
    };
    const first = await once();
    if (first.res.status !== 401) {
      return first.res;
    }
    tokens.invalidate(first.token.accessToken);
    return (await once()).res;
  }

  const writeRequest = (method: 'POST' | 'PATCH', body: ContactWriteBody): HttpRequest => ({
    method,
    path: SFMC_PATHS.contacts,
    body,
  });
  const searchRequest = bodyRequest<EmailSearchBody>('POST', SFMC_PATHS.emailSearch);

  return {
    tokens,
    writeRequest,
    searchRequest,

    /** Where REST calls go: the token's `rest_instance_url`, or a guess before the first token. */
    get restBase(): string {
      return tokens.restUrl ?? guessed;
    },

    /** The request as a user may see it on a dry run (bearer token redacted). */
    describe(req: HttpRequest): WireRequest {
      return describeRequest(tokens.restUrl ?? guessed, req, {
        authorization: 'Bearer [redacted]',
      });
    },

    /** `POST|PATCH /contacts/v1/contacts` → the parsed answer (which may still report errors). */
    async write(
      req: HttpRequest,
      stats: CallStats,
      signal: AbortSignal | undefined,
      counter: SendCounter,
    ): Promise<ContactWriteResponse> {
      const res = await send(req, stats, signal, counter);
      return objectAnswer(res, [200, 201], ContactWriteResponseSchema, 'a contact result');
    },

    /** `POST /contacts/v1/addresses/email/search`. */
    async searchEmails(
      body: EmailSearchBody,
      stats: CallStats,
      signal: AbortSignal | undefined,
    ): Promise<EmailSearchResponse> {
      const res = await send(searchRequest(body), stats, signal, { sent: 0 });
      return objectAnswer(res, [200], EmailSearchResponseSchema, 'a search result');
    },

    /**
     * `POST /contacts/v1/addresses/search/ContactKey` `{filterConditionOperator: "Is",
     * filterConditionValue: key}` (scope `audiences_read`, SF-13): whether the key exists, and its
     * channel addresses.
     */
    async searchContactKey(
      contactKey: string,
      stats: CallStats,
      signal: AbortSignal | undefined,
      counter: SendCounter,
    ): Promise<ContactKeySearchResponse> {
      const res = await send(
        {
          method: 'POST',
          path: SFMC_PATHS.contactKeySearch,
          body: { filterConditionOperator: 'Is', filterConditionValue: contactKey },
        },
        stats,
        signal,
        counter,
      );
      return objectAnswer(
        res,
        [200],
        ContactKeySearchResponseSchema,
        'a contact key search result',
        'a search result',
      );
    },

    async close() {
      await Promise.all([auth.close(), ...[...restClients.values()].map((c) => c.close())]);
    },
  };
}

export type SfmcClient = ReturnType<typeof createSfmcClient>;
