/**
 * A dry run shows what a write sends: per provider, the request `planWrite` describes (the dry
 * run) against the one its sandbox recorded when the same write was sent for real. Method, URL
 * (path and query), the headers that carry meaning, the credential's scheme, and the body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderOptions } from '../../../src/model/contact.js';
import type { WireRequest } from '../../../src/model/outcome.js';
import { createDigitalOnboardingAdapter } from '../../../src/providers/digital-onboarding/index.js';
import { createDotdigitalAdapter } from '../../../src/providers/dotdigital/index.js';
import { createNotifuseAdapter } from '../../../src/providers/notifuse/index.js';
import { createSalesforceMcAdapter } from '../../../src/providers/salesforce-mc/index.js';
import type { ProviderAdapter, WriteItem } from '../../../src/providers/types.js';
import { startDigitalOnboardingSandbox } from '../../../src/sandbox/digital-onboarding/index.js';
import { startDotdigitalSandbox } from '../../../src/sandbox/dotdigital/index.js';
import { startNotifuseSandbox } from '../../../src/sandbox/notifuse/index.js';
import { startSalesforceMcSandbox } from '../../../src/sandbox/salesforce-mc/index.js';
import type { RecordedRequest, SandboxControls } from '../../../src/sandbox/shared/types.js';
import { adapterConfig, adapterDeps, ctx, item } from '../../helpers/adapter.js';

const deps = adapterDeps();

interface Setup {
  adapter: ProviderAdapter;
  sandbox: { url: string; controls: SandboxControls; close(): Promise<void> };
}

/**
 * Plans `write` (the dry run: nothing may reach the sandbox), sends it for real, and returns the
 * planned request beside the one request the sandbox recorded with the same method and path.
 */
async function dryRunAndWrite(
  s: Setup,
  write: WriteItem,
): Promise<{ planned: WireRequest; sent: RecordedRequest }> {
  s.sandbox.controls.reset();
  const plan = s.adapter.planWrite(write);
  if (!plan.ok) {
    throw new Error(`planWrite refused: ${plan.error.message}`);
  }
  expect(s.sandbox.controls.requests).toHaveLength(0);
  const [outcome] = await s.adapter.upsertMany([write], ctx());
  expect(outcome).toMatchObject({ status: 'CREATED', error: null });
  const url = new URL(plan.request.url);
  const sent = s.sandbox.controls.requests.filter(
    (r) => r.method === plan.request.method && r.path === url.pathname,
  );
  expect(sent).toHaveLength(1);
  return { planned: plan.request, sent: sent[0]! };
}

/**
 * The planned request is the sent one: same origin, method, path, query and body; every header it
 * shows was sent with that value, but the credential, shown as `<scheme> [redacted]` and sent
 * with the same scheme; and no header that carries meaning was sent without being shown.
 */
function expectSame(
  s: Setup,
  planned: WireRequest,
  sent: RecordedRequest,
  except: readonly string[] = [],
): void {
  const url = new URL(planned.url);
  expect(url.origin).toBe(new URL(s.sandbox.url).origin);
  expect(planned.method).toBe(sent.method);
  expect(url.pathname).toBe(sent.path);
  expect(Object.fromEntries(url.searchParams)).toEqual(sent.query);
  expect(planned.body).toEqual(sent.body);
  const { authorization, ...shown } = planned.headers;
  const scheme = authorization?.split(' ')[0];
  expect(authorization).toBe(`${scheme} [redacted]`);
  expect(sent.headers['authorization']?.startsWith(`${scheme} `)).toBe(true);
  const meaningful = Object.keys(sent.headers).filter(
    (h) => !TRANSPORT_HEADERS.has(h) && h !== 'authorization' && !except.includes(h),
  );
  expect(
    Object.keys(shown)
      .filter((h) => !except.includes(h))
      .sort(),
  ).toEqual(meaningful.sort());
  for (const h of meaningful) {
    expect([h, shown[h]]).toEqual([h, sent.headers[h]]);
  }
}

/** Headers undici adds on the way (connection and framing), not part of what a write says. */
const TRANSPORT_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding']);

function closing(setup: () => Promise<Setup>) {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(async () => {
    await s.adapter.close();
    await s.sandbox.close();
  });
  return () => s;
}

describe('dry run = real write: Notifuse', () => {
  const setup = closing(async () => {
    const sandbox = await startNotifuseSandbox({ apiKey: 'dry-key', workspaceId: 'ws_dry' });
    const adapter = createNotifuseAdapter(
      adapterConfig.notifuse(sandbox.url, { apiKey: 'dry-key', workspaceId: 'ws_dry' }),
      deps,
    );
    return { adapter, sandbox };
  });

  it('POST /api/contacts.upsert: the same body and headers', async () => {
    const s = setup();
    const { planned, sent } = await dryRunAndWrite(
      s,
      item({ email: 'dry.notifuse@example.com', firstName: 'Dry', phone: '+14155550123' }),
    );
    expectSame(s, planned, sent);
  });
});

describe('dry run = real write: Dotdigital', () => {
  const setup = closing(async () => {
    const sandbox = await startDotdigitalSandbox({ username: 'dry-user', password: 'dry-pw' });
    const adapter = createDotdigitalAdapter(
      adapterConfig.dotdigital(sandbox.url, { username: 'dry-user', password: 'dry-pw' }),
      deps,
    );
    return { adapter, sandbox };
  });

  it('PATCH /contacts/v3/email/{email}?merge-option: the same path, query, body and headers', async () => {
    const s = setup();
    const { planned, sent } = await dryRunAndWrite(
      s,
      item(
        { email: 'dry+dotdigital@example.com', firstName: 'Dry', lastName: 'Run' },
        { options: { dotdigital: { mergeOption: 'OVERWRITE_IF_NOT_EMPTY' } } },
      ),
    );
    expect(sent.query).toEqual({ 'merge-option': 'overwrite-if-not-empty' });
    expectSame(s, planned, sent);
  });
});

describe('dry run = real write: Salesforce MC', () => {
  const setup = closing(async () => {
    const credentials = {
      clientId: 'dry-client',
      clientSecret: 'dry-secret',
      accountId: '514000001',
    };
    const sandbox = await startSalesforceMcSandbox(credentials);
    const adapter = createSalesforceMcAdapter(
      adapterConfig.salesforceMc(sandbox.url, credentials),
      deps,
    );
    return { adapter, sandbox };
  });

  it('POST /contacts/v1/contacts: the same body and headers, at the REST base', async () => {
    const s = setup();
    const { planned, sent } = await dryRunAndWrite(
      s,
      item({ externalId: 'crm-dry-sfmc', email: 'dry.sfmc@example.com', firstName: 'Dry' }),
    );
    expectSame(s, planned, sent);
  });
});

describe('dry run = real write: Digital Onboarding', () => {
  const setup = closing(async () => {
    const sandbox = await startDigitalOnboardingSandbox({ token: 'dry-token' });
    const adapter = createDigitalOnboardingAdapter(
      adapterConfig.digitalOnboarding(sandbox.url, {
        token: 'dry-token',
        batchSize: sandbox.maxBulkItems,
      }),
      deps,
    );
    return { adapter, sandbox };
  });

  it('POST /v2/partner/contacts: the same body and headers, plus its own dry_run override', async () => {
    const s = setup();
    const options = { digitalOnboarding: { overrides: ['force'] } } as ProviderOptions;
    const { planned, sent } = await dryRunAndWrite(
      s,
      item(
        { externalId: 'crm-dry-do', email: 'dry.do@example.com', firstName: 'Dry' },
        { options },
      ),
    );
    // The one deliberate difference: Digital Onboarding's own dry run is asked for (so the shown
    // request, sent as is, stores nothing), and the Idempotency-Key covers that header.
    expect(sent.headers['x-operator-override']).toBe('force');
    expect(planned.headers['x-operator-override']).toBe('force,dry_run');
    expect(planned.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expectSame(s, planned, sent, ['x-operator-override', 'idempotency-key']);
  });
});
