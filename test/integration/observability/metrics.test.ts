/**
 * Issue #17 item 2: `/metrics` over a real port, after faults injected at the sandboxes, parsed by
 * a Prometheus text parser. Values are asserted exactly; no label may carry an operation name, an
 * email or any other contact data. Then the path and the bearer token are attacked.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { operationLabel } from '../../../src/observability/metrics.js';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { bearer, FULL_KEY, KEYS_ENV } from '../hardening/keys.js';
import { rawRequest } from '../hardening/raw-http.js';

/** Starting a gateway opens its embedded database (seconds, more on a busy machine). */
const START_TIMEOUT_MS = 120_000;
const TOKEN = 'metrics-token-0123456789abcdef';
const OPERATION = 'MetricsProbeUpsert';
const UPSERT = `mutation ${OPERATION}($input: ContactInput!, $options: WriteOptions) {
  upsertContact(input: $input, options: $options) {
    outcomes { provider status attempts error { code } }
    errors { code }
  }
}`;

interface Served {
  t: TestGateway;
  port: number;
  close(): Promise<void>;
}

async function serve(env: Record<string, string>): Promise<Served> {
  const t = await createTestGateway(env, { only: ['NOTIFUSE', 'DOTDIGITAL'] });
  const server: Server = createServer(t.gateway.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    t,
    port: (server.address() as AddressInfo).port,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await t.close();
    },
  };
}

function scrape(port: number, headers: Record<string, string> = {}, path = '/metrics') {
  return fetch(`http://127.0.0.1:${port}${path}`, { headers });
}

function family(families: MetricFamily[], name: string): MetricFamily {
  const found = families.find((f) => f.name === name);
  if (!found) {
    throw new Error(`no metric family ${name} in the scrape`);
  }
  return found;
}

/** The value of the one sample of `name` whose labels include `labels` (0 when there is none). */
function value(families: MetricFamily[], name: string, labels: Record<string, string> = {}) {
  family(families, name);
  // Untyped series may come back as several families of one name (one per label set).
  const samples = families
    .flatMap((f) => (f.name === name ? f.metrics : []))
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  expect(samples.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return samples[0] ? Number(samples[0].value ?? samples[0].count) : 0;
}

describe('/metrics after injected faults', () => {
  let s: Served;
  let text: string;
  let families: MetricFamily[];
  const emails = {
    queued: 'queued.metrics.probe@example.com',
    reset: 'reset.metrics.probe@example.com',
    replayed: 'replayed.metrics.probe@example.com',
  };

  beforeAll(async () => {
    s = await serve({
      RETRY_MAX_ATTEMPTS: '3',
      RETRY_BASE_DELAY_MS: '1',
      RETRY_MAX_DELAY_MS: '5',
      BREAKER_THRESHOLD: '3',
      NOTIFUSE_RATE_PER_SECOND: '0',
      DOTDIGITAL_RATE_PER_SECOND: '0',
      // The outbox keeps what failed; nothing delivers it during the test.
      OUTBOX_POLL_MS: '0',
    });
    const { t } = s;
    const write = (email: string, providers: string[], idempotencyKey?: string) =>
      t.gql<{ upsertContact: { outcomes: Array<{ status: string; attempts: number }> } }>(UPSERT, {
        input: { email, firstName: 'Probe', lastName: 'Metricsperson' },
        options: { providers, ...(idempotencyKey ? { idempotencyKey } : {}) },
      });

    // Notifuse: three 503s use up the three attempts; the write is kept in the outbox (QUEUED)
    // and the breaker (threshold 3) opens.
    t.notifuse.controls.inject({
      method: 'POST',
      path: '/api/contacts.upsert',
      faults: [
        { kind: 'status', status: 503 },
        { kind: 'status', status: 503 },
        { kind: 'status', status: 503 },
      ],
    });
    const queued = await write(emails.queued, ['NOTIFUSE']);
    expect(queued.data.upsertContact.outcomes).toMatchObject([{ status: 'QUEUED', attempts: 3 }]);

    // Dotdigital: the connection is reset once, the retry creates the contact.
    t.dotdigital.controls.inject({
      method: 'PATCH',
      path: `/contacts/v3/email/${encodeURIComponent(emails.reset)}`,
      faults: [{ kind: 'reset' }],
    });
    const reset = await write(emails.reset, ['DOTDIGITAL']);
    expect(reset.data.upsertContact.outcomes).toMatchObject([{ status: 'CREATED', attempts: 2 }]);

    // The same idempotency key and input twice: the second answer is a replay.
    const first = await write(emails.replayed, ['DOTDIGITAL'], 'metrics-probe-key');
    const again = await write(emails.replayed, ['DOTDIGITAL'], 'metrics-probe-key');
    expect(again.data).toEqual(first.data);

    const res = await scrape(s.port);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await res.text();
    families = parsePrometheusTextFormat(text);
    console.info(
      `[metrics] scrape: ${Buffer.byteLength(text)} bytes, ${families.length} metric families ` +
        `(${families.filter((f) => f.name.startsWith('contact_gateway_')).length} contact_gateway_*)`,
    );
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await s?.close();
  });

  it('counts provider requests by provider, templated operation and outcome', () => {
    const name = 'contact_gateway_provider_requests_total';
    const notifuse = { provider: 'NOTIFUSE', operation: 'POST /api/contacts.upsert' };
    const dotdigital = { provider: 'DOTDIGITAL', operation: 'PATCH /contacts/v3/email/{id}' };
    expect(value(families, name, { ...notifuse, outcome: '5xx' })).toBe(3);
    expect(value(families, name, { ...notifuse, outcome: '2xx' })).toBe(0);
    expect(value(families, name, { ...dotdigital, outcome: 'connection_error' })).toBe(1);
    expect(value(families, name, { ...dotdigital, outcome: '2xx' })).toBe(2);
    const histogram = family(families, 'contact_gateway_provider_request_duration_seconds');
    expect(histogram.type).toBe('HISTOGRAM');
    // The parser folds a histogram's labelled series into one: read `_count` and `_bucket` as
    // plain series instead.
    const series = parsePrometheusTextFormat(text.replace(/^# TYPE \S+ histogram$/gm, ''));
    const count = `${histogram.name}_count`;
    expect(value(series, count, dotdigital)).toBe(3);
    expect(value(series, count, notifuse)).toBe(3);
    expect(value(series, `${histogram.name}_bucket`, { ...notifuse, le: '+Inf' })).toBe(3);
  });

  it('counts retries, write outcomes and idempotent replays', () => {
    expect(value(families, 'contact_gateway_retries_total', { provider: 'NOTIFUSE' })).toBe(2);
    expect(value(families, 'contact_gateway_retries_total', { provider: 'DOTDIGITAL' })).toBe(1);
    const outcomes = 'contact_gateway_write_outcomes_total';
    expect(value(families, outcomes, { provider: 'NOTIFUSE', status: 'QUEUED' })).toBe(1);
    // The replay is not a second write.
    expect(value(families, outcomes, { provider: 'DOTDIGITAL', status: 'CREATED' })).toBe(2);
    expect(family(families, outcomes).metrics).toHaveLength(2);
    expect(value(families, 'contact_gateway_idempotent_replays_total')).toBe(1);
  });

  it('reads breakers and the outbox at scrape time', () => {
    expect(value(families, 'contact_gateway_breaker_state', { provider: 'NOTIFUSE' })).toBe(2);
    expect(value(families, 'contact_gateway_breaker_state', { provider: 'DOTDIGITAL' })).toBe(0);
    // Disabled providers have no breaker to report.
    expect(family(families, 'contact_gateway_breaker_state').metrics).toHaveLength(2);
    expect(value(families, 'contact_gateway_outbox_depth')).toBe(1);
    const age = value(families, 'contact_gateway_outbox_oldest_age_seconds');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);
  });

  it("carries Yoga's operation metrics without operation names", () => {
    const requests = family(families, 'graphql_envelop_request');
    const mutations = requests.metrics.filter((m) => m.labels?.['operationType'] === 'mutation');
    expect(mutations.reduce((n, m) => n + Number(m.value), 0)).toBe(4);
    expect(family(families, 'graphql_yoga_http_duration').type).toBe('HISTOGRAM');
  });

  it('no label carries an operation name, a key, an email or any contact data', () => {
    const labelValues = families.flatMap((f) =>
      f.metrics.flatMap((m) => Object.values(m.labels ?? {})),
    );
    expect(labelValues.length).toBeGreaterThan(10);
    for (const v of labelValues) {
      expect(v).not.toContain('@');
      expect(v).not.toContain(OPERATION);
      expect(v).not.toMatch(/probe|metricsperson|metrics-probe-key/i);
    }
    // Nor anywhere else in the exposition.
    expect(text).not.toMatch(/@|probe|metricsperson/i);
    const labelNames = new Set(
      families.flatMap((f) => f.metrics.flatMap((m) => Object.keys(m.labels ?? {}))),
    );
    for (const forbidden of ['operationName', 'fieldName', 'path', 'url', 'email', 'keyName']) {
      expect(labelNames.has(forbidden)).toBe(false);
    }
  });

  it('templates every provider path onto a fixed vocabulary', () => {
    expect(operationLabel('GET', '/contacts/v3/email/ada%40example.com')).toBe(
      'GET /contacts/v3/email/{id}',
    );
    expect(
      operationLabel('PATCH', '/v2/partner/contacts/0b7c9a8e-1f3a-4c1e-9d62-5f1f0a3b2c4d'),
    ).toBe('PATCH /v2/partner/contacts/{id}');
    expect(operationLabel('GET', '/api/contacts.getByEmail')).toBe('GET /api/contacts.getByEmail');
    expect(operationLabel('GET', '/contacts/v3/import/secret-import-id')).toBe(
      'GET /contacts/v3/import/{id}',
    );
    expect(operationLabel('BREW', '/contacts/ada')).toBe('OTHER /contacts/{id}');
  });

  it('answers only the exact path, GET or HEAD', async () => {
    for (const target of [
      '/metrics/',
      '/Metrics',
      '//metrics',
      '/./metrics',
      '/graphql/../metrics',
      '/%6detrics',
      '/metrics%2F',
      '/metrics;x',
      '/metrics.txt',
      '\\metrics',
      'http://evil/metrics',
    ]) {
      const res = await rawRequest(s.port, { method: 'GET', target });
      expect([400, 404], target).toContain(res.status);
      expect(res.body, target).not.toContain('contact_gateway_');
    }
    const withQuery = await rawRequest(s.port, { method: 'GET', target: '/metrics?x=/graphql' });
    expect(withQuery.status).toBe(200);
    expect(withQuery.body).toContain('contact_gateway_provider_requests_total');
    const head = await rawRequest(s.port, { method: 'HEAD', target: '/metrics' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await rawRequest(s.port, { method, target: '/metrics', body: '' });
      expect(res.status, method).toBe(405);
      expect(res.headers['allow']).toBe('GET, HEAD');
      expect(res.body).not.toContain('contact_gateway_');
    }
  });
});

describe('/metrics with API keys', () => {
  let withToken: Served;
  let withoutToken: Served;

  beforeAll(async () => {
    [withToken, withoutToken] = await Promise.all([
      serve({ ...KEYS_ENV, GATEWAY_METRICS_TOKEN: TOKEN }),
      serve(KEYS_ENV),
    ]);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await Promise.all([withToken?.close(), withoutToken?.close()]);
  });

  it('needs GATEWAY_METRICS_TOKEN as a bearer token, compared exactly', async () => {
    const ok = await scrape(withToken.port, bearer(TOKEN));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('contact_gateway_outbox_depth');
    const caseOfScheme = await scrape(withToken.port, { authorization: `bearer ${TOKEN}` });
    expect(caseOfScheme.status).toBe(200);

    const refused: Array<Record<string, string>> = [
      {},
      bearer(FULL_KEY),
      bearer(`${TOKEN}x`),
      bearer(TOKEN.slice(0, -1)),
      bearer(TOKEN.toUpperCase()),
      { authorization: TOKEN },
      { authorization: `Bearer  ${TOKEN}` },
      { authorization: `Bearer ${TOKEN} ${TOKEN}` },
      { authorization: `Basic ${Buffer.from(`metrics:${TOKEN}`).toString('base64')}` },
      { authorization: `Token ${TOKEN}` },
      { authorization: 'Bearer' },
      { 'x-metrics-token': TOKEN },
    ];
    for (const headers of refused) {
      const res = await scrape(withToken.port, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      const body = await res.text();
      expect(body).not.toContain('contact_gateway_');
      expect(body).not.toContain(TOKEN);
    }
    const inQuery = await scrape(withToken.port, {}, `/metrics?token=${TOKEN}`);
    expect(inQuery.status).toBe(401);
  });

  it('does not let the metrics token in anywhere else, nor need an API key', async () => {
    const res = await withToken.t.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(TOKEN) },
      body: JSON.stringify({ query: '{ providers { provider } }' }),
    });
    expect(res.status).toBe(401);
  });

  it('is off (404) with API keys and no token, whatever the key', async () => {
    for (const headers of [{}, bearer(FULL_KEY), bearer(TOKEN)]) {
      const res = await scrape(withoutToken.port, headers);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('contact_gateway_');
    }
  });

  it('refuses a short or malformed token at start', () => {
    for (const token of ['short', 'has spaces in it, long enough', 'x'.repeat(15)]) {
      expect(() => loadConfig({ GATEWAY_METRICS_TOKEN: token })).toThrow(ConfigError);
    }
    expect(loadConfig({ GATEWAY_METRICS_TOKEN: TOKEN }).observability.metrics.enabled).toBe(true);
    expect(JSON.stringify(loadConfig({ GATEWAY_METRICS_TOKEN: TOKEN }))).not.toContain(TOKEN);
  });
});
