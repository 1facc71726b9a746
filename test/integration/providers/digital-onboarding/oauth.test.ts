import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../../../src/app.js';
import { type Config, loadConfig, Secret } from '../../../../src/config.js';
import { createLogger } from '../../../../src/logger.js';
import {
  CONTACTS_PATH,
  type DigitalOnboardingSandbox,
  startDigitalOnboardingSandbox,
  TOKEN_PATH,
} from '../../../../src/sandbox/digital-onboarding/index.js';
import {
  type RunningSandboxes,
  SANDBOX_CREDENTIALS,
  startSandboxes,
} from '../../../../src/sandbox-mode.js';
import { upsertMany, upsertOne } from '../../../helpers/operations.js';

/**
 * #15 item 1: Digital Onboarding partner tokens live an hour (DO-AUTH; DO-V1: OAuth2
 * client_credentials at `POST /oauth2/token`, credentials in the body, never the query string; an
 * expired token answers 401 `{"error":"invalid_token"}`). The gateway fetches one token, reuses it,
 * renews it once when it expires — however many requests hit the expiry together — and never lets
 * the client secret or a token reach a log line or a GraphQL answer.
 */
const UPSERT = upsertOne(
  'outcomes { provider status remoteId error { code message httpStatus retryable } }',
  '{ providers: [DIGITAL_ONBOARDING] }',
);
const UPSERT_MANY = upsertMany(
  'items { outcomes { status error { code message } } } summary { succeeded failed }',
  '{ providers: [DIGITAL_ONBOARDING] }',
);

interface Outcome {
  provider: string;
  status: string;
  remoteId: string | null;
  error: { code: string; message: string; httpStatus: number | null; retryable: boolean } | null;
}

const CREDS = SANDBOX_CREDENTIALS.digitalOnboarding;
let sandboxes: RunningSandboxes;
let sandbox: DigitalOnboardingSandbox;
const gateways: Gateway[] = [];
const logLines: string[] = [];
const answers: string[] = [];

function gatewayWith(auth: (config: Config, url: string) => Config): Gateway {
  const config = auth(sandboxes.config, sandbox.url);
  const gateway = createGateway(config, {
    sandboxed: sandboxes.sandboxed,
    logger: createLogger('trace', {
      write: (line: string) => logLines.push(line),
    } as unknown as NodeJS.WritableStream),
  });
  gateways.push(gateway);
  return gateway;
}

const clientCredentials =
  (secret: string = CREDS.clientSecret) =>
  (config: Config, url: string): Config => ({
    ...config,
    digitalOnboarding: {
      ...config.digitalOnboarding!,
      token: null,
      clientCredentials: {
        clientId: CREDS.clientId,
        clientSecret: new Secret(secret),
        authUrl: `${url}${TOKEN_PATH}`,
      },
    },
  });

async function gql<T>(gateway: Gateway, query: string, variables: Record<string, unknown>) {
  const res = await gateway.yoga.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  answers.push(text);
  const body = JSON.parse(text) as { data: T; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data;
}

const upsert = async (gateway: Gateway, input: Record<string, unknown>) =>
  (await gql<{ upsertContact: { outcomes: Outcome[] } }>(gateway, UPSERT, { input })).upsertContact
    .outcomes[0]!;

const tokenRequests = () => sandbox.controls.requests.filter((r) => r.path === TOKEN_PATH);
const bearerOf = (auth: string | undefined) => /^Bearer (.+)$/.exec(auth ?? '')?.[1];

beforeAll(async () => {
  sandboxes = await startSandboxes(
    loadConfig({ LOG_LEVEL: 'silent', RETRY_MAX_ATTEMPTS: '1', GATEWAY_OUTBOX: 'off' }),
    { only: ['DIGITAL_ONBOARDING'] },
  );
  sandbox = sandboxes.sandboxes[0]!.sandbox as DigitalOnboardingSandbox;
});
beforeEach(() => {
  sandbox.controls.clearRequests();
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await sandboxes?.close();
});

describe('Digital Onboarding OAuth2 client credentials', () => {
  it('fetches one token (credentials in a form body) for many writes', async () => {
    const gateway = gatewayWith(clientCredentials());
    for (let i = 0; i < 4; i += 1) {
      expect((await upsert(gateway, { email: `many${i}@example.com` })).status).toBe('CREATED');
    }
    const batch = await gql<{ upsertContacts: { summary: { succeeded: number } } }>(
      gateway,
      UPSERT_MANY,
      { inputs: [{ email: 'b1@example.com' }, { email: 'b2@example.com' }] },
    );
    expect(batch.upsertContacts.summary.succeeded).toBe(2);

    expect(sandbox.tokensIssued).toBe(1);
    const [tokenReq] = tokenRequests();
    expect(tokenRequests()).toHaveLength(1);
    expect(tokenReq).toMatchObject({ method: 'POST', query: {} });
    expect(tokenReq!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(tokenReq!.rawBody))).toEqual({
      grant_type: 'client_credentials',
      client_id: CREDS.clientId,
      client_secret: CREDS.clientSecret,
    });
    const writes = sandbox.controls.requests.filter((r) => r.path.startsWith(CONTACTS_PATH));
    expect(writes).toHaveLength(5);
    const bearers = new Set(writes.map((r) => bearerOf(r.headers['authorization'])));
    expect(bearers.size).toBe(1);
    expect([...bearers][0]).not.toBe(CREDS.token);
  });

  it('renews an expired token exactly once when many requests meet the expiry together', async () => {
    const gateway = gatewayWith(clientCredentials());
    expect((await upsert(gateway, { email: 'warm@example.com' })).status).toBe('CREATED');
    const oldToken = bearerOf(sandbox.controls.requests.at(-1)!.headers['authorization']);
    const before = sandbox.tokensIssued;
    sandbox.expireToken();
    sandbox.controls.clearRequests();

    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => upsert(gateway, { email: `race${i}@example.com` })),
    );
    expect(outcomes.map((o) => o.status)).toEqual(Array(8).fill('CREATED'));
    expect(sandbox.tokensIssued).toBe(before + 1);
    expect(tokenRequests()).toHaveLength(1);
    // The requests that carried the old token got DO's 401 invalid_token; each was sent once more.
    const writes = sandbox.controls.requests.filter((r) => r.path === CONTACTS_PATH);
    const refused = writes.filter((r) => bearerOf(r.headers['authorization']) === oldToken);
    const renewed = writes.filter((r) => bearerOf(r.headers['authorization']) !== oldToken);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(renewed).toHaveLength(8);
    expect(new Set(renewed.map((r) => bearerOf(r.headers['authorization']))).size).toBe(1);
  });

  it('renews a token before it runs out (expires_in minus the skew), so no write meets a 401', async () => {
    sandbox.setTokenLifetime(1);
    try {
      const gateway = gatewayWith(clientCredentials());
      expect((await upsert(gateway, { email: 'short1@example.com' })).status).toBe('CREATED');
      const issued = sandbox.tokensIssued;
      sandbox.controls.clearRequests();
      // Renewal is due at max(1 / 2, 1 − 60 s skew) = 0.5 s; the token itself lasts 1 s, so a
      // cache that kept it until it ran out would send it once more here, and no token request.
      await sleep(600);
      expect(await upsert(gateway, { email: 'short2@example.com' })).toMatchObject({
        status: 'CREATED',
        error: null,
      });
      expect(sandbox.tokensIssued).toBe(issued + 1);
      expect(sandbox.controls.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        `POST ${TOKEN_PATH}`,
        `POST ${CONTACTS_PATH}`,
      ]);
    } finally {
      sandbox.setTokenLifetime(3600);
    }
  });

  it('a static DIGITAL_ONBOARDING_TOKEN still works, and its 401 says it expired', async () => {
    const issued = (await (
      await fetch(`${sandbox.url}${TOKEN_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: CREDS.clientId,
          client_secret: CREDS.clientSecret,
        }).toString(),
      })
    ).json()) as { access_token: string; expires_in: number; token_type: string };
    expect(issued).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });

    const gateway = gatewayWith((config) => ({
      ...config,
      digitalOnboarding: {
        ...config.digitalOnboarding!,
        token: new Secret(issued.access_token),
        clientCredentials: null,
      },
    }));
    expect((await upsert(gateway, { email: 'static@example.com' })).status).toBe('CREATED');

    sandbox.expireToken(issued.access_token);
    const issuedBefore = sandbox.tokensIssued;
    const outcome = await upsert(gateway, { email: 'static2@example.com' });
    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: { code: 'invalid_token', httpStatus: 401, retryable: false },
    });
    expect(outcome.error!.message).toMatch(/expired or was refused/);
    expect(outcome.error!.message).not.toContain(issued.access_token);
    expect(sandbox.tokensIssued).toBe(issuedBefore);
  });

  it('a wrong client secret fails the write as UNAUTHORIZED, not retryable, without the secret', async () => {
    const wrong = 'wrong-secret-do-not-print-me';
    const gateway = gatewayWith(clientCredentials(wrong));
    const outcome = await upsert(gateway, { email: 'nope@example.com' });
    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: { code: 'UNAUTHORIZED', httpStatus: 401, retryable: false },
    });
    expect(JSON.stringify(outcome)).not.toContain(wrong);
    expect(logLines.join('\n')).not.toContain(wrong);
  });

  it('never shows the client secret or a token in logs or GraphQL answers', () => {
    const tokens = new Set(
      sandbox.controls.requests.flatMap((r) => bearerOf(r.headers['authorization']) ?? []),
    );
    const everything = `${logLines.join('\n')}\n${answers.join('\n')}`;
    expect(answers.length).toBeGreaterThan(0);
    expect(everything).not.toContain(CREDS.clientSecret);
    for (const token of tokens) {
      expect(everything).not.toContain(token);
    }
  });
});

describe('the sandbox token endpoint', () => {
  it('refuses credentials in the query string and revokes the client', async () => {
    const own = await startDigitalOnboardingSandbox({
      token: 'static',
      client: { id: 'qs-client', secret: 'qs-secret' },
    });
    try {
      const res = await fetch(
        `${own.url}${TOKEN_PATH}?client_id=qs-client&client_secret=qs-secret`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        },
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_request' });
      expect(own.clientRevoked).toBe(true);
      // The revoked client gets nothing, even asking properly.
      const again = await fetch(`${own.url}${TOKEN_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=qs-client&client_secret=qs-secret',
      });
      expect(again.status).toBe(401);
      expect(await again.json()).toMatchObject({ error: 'invalid_client' });
      expect(own.tokensIssued).toBe(0);
    } finally {
      await own.close();
    }
  });

  it('refuses an expired token with 401 {"error":"invalid_token"} and honours setTokenLifetime', async () => {
    const own = await startDigitalOnboardingSandbox({
      token: 'static',
      client: { id: 'c', secret: 's' },
    });
    try {
      own.setTokenLifetime(120);
      const issued = (await (
        await fetch(`${own.url}${TOKEN_PATH}`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from('c:s').toString('base64')}` },
          body: 'grant_type=client_credentials',
        })
      ).json()) as { access_token: string; expires_in: number };
      expect(issued.expires_in).toBe(120);
      const read = () =>
        fetch(`${own.url}${CONTACTS_PATH}`, {
          headers: { authorization: `Bearer ${issued.access_token}` },
        });
      expect((await read()).status).toBe(200);
      own.expireToken(issued.access_token);
      const res = await read();
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'invalid_token' });
    } finally {
      await own.close();
    }
  });
});
