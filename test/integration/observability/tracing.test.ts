/**
 * Issue #17 item 3: OpenTelemetry over the standard `OTEL_*` variables. An OTLP/HTTP receiver in
 * this process (a node:http server decoding the JSON export) must see the span tree: the operation
 * (continuing the caller's `traceparent`) → one child per provider request. The sandboxes must
 * have received `traceparent` naming those child spans, and every log line of the request must
 * carry the trace id. Off unless an exporter is configured.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../../src/app.js';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import type { DotdigitalSandbox } from '../../../src/sandbox/dotdigital/index.js';
import type { NotifuseSandbox } from '../../../src/sandbox/notifuse/index.js';
import { type RunningSandboxes, startSandboxes } from '../../../src/sandbox-mode.js';
import { configVariableNames } from '../../../src/startup.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: OtlpValue }>;
  status?: { code?: number };
}
interface Export {
  contentType: string;
  body: Buffer;
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const STATUS_ERROR = 2;
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const EMAIL = 'traced.person@example.com';

/** The OTLP/HTTP collector: every export as received. */
async function startReceiver() {
  const exports: Export[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        exports.push({
          contentType: req.headers['content-type'] ?? '',
          body: Buffer.concat(chunks),
        });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    /** Spans of the JSON exports, with their resource's attributes. */
    spans(): Array<OtlpSpan & { resource: Record<string, string> }> {
      return exports
        .filter((e) => e.contentType.includes('json'))
        .flatMap((e) => {
          const body = JSON.parse(e.body.toString('utf8')) as {
            resourceSpans: Array<{
              resource: { attributes: Array<{ key: string; value: OtlpValue }> };
              scopeSpans: Array<{ spans: OtlpSpan[] }>;
            }>;
          };
          return body.resourceSpans.flatMap((rs) => {
            const resource = Object.fromEntries(
              rs.resource.attributes.map((a) => [a.key, String(a.value.stringValue)]),
            );
            return rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, resource })));
          });
        });
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const attr = (span: OtlpSpan, key: string) => {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue === undefined ? v?.boolValue : Number(v.intValue));
};

/** Polls until `check` passes (the exporter sends in batches); fails with its last error. */
async function eventually(check: () => void, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > until) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

interface Served {
  gateway: Gateway;
  sandboxes: RunningSandboxes;
  notifuse: NotifuseSandbox;
  dotdigital: DotdigitalSandbox;
  lines: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function serve(env: Record<string, string>): Promise<Served> {
  const lines: Array<Record<string, unknown>> = [];
  const config = loadConfig({
    LOG_LEVEL: 'debug',
    RETRY_BASE_DELAY_MS: '1',
    RETRY_MAX_DELAY_MS: '5',
    NOTIFUSE_RATE_PER_SECOND: '0',
    DOTDIGITAL_RATE_PER_SECOND: '0',
    OUTBOX_POLL_MS: '0',
    ...env,
  });
  const sandboxes = await startSandboxes(config, { only: ['NOTIFUSE', 'DOTDIGITAL'] });
  const gateway = createGateway(sandboxes.config, {
    sandboxed: sandboxes.sandboxed,
    logger: createLogger('debug', {
      write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>),
    } as unknown as NodeJS.WritableStream),
  });
  const find = <T>(id: string) => sandboxes.sandboxes.find((s) => s.provider === id)!.sandbox as T;
  return {
    gateway,
    sandboxes,
    notifuse: find<NotifuseSandbox>('NOTIFUSE'),
    dotdigital: find<DotdigitalSandbox>('DOTDIGITAL'),
    lines,
    async close() {
      await gateway.close();
      await sandboxes.close();
    },
  };
}

async function upsert(s: Served, headers: Record<string, string> = {}) {
  const res = await s.gateway.yoga.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({
      query: `mutation TracedUpsert($input: ContactInput!) {
        upsertContact(input: $input, options: { providers: [NOTIFUSE, DOTDIGITAL] }) {
          outcomes { provider status attempts } } }`,
      variables: { input: { email: EMAIL, firstName: 'Traced' } },
    }),
  });
  const body = (await res.json()) as {
    data: { upsertContact: { outcomes: Array<{ provider: string; status: string }> } };
  };
  return { requestId: res.headers.get('x-request-id')!, body };
}

describe('tracing with an OTLP/HTTP exporter (http/json)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let s: Served;
  let requestId: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    s = await serve({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '20',
      OTEL_SERVICE_NAME: 'contact-gateway-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
    });
    // Notifuse fails once (503) and is retried: two client spans under the one operation.
    s.notifuse.controls.inject({
      method: 'POST',
      path: '/api/contacts.upsert',
      faults: [{ kind: 'status', status: 503 }],
    });
    const answer = await upsert(s, { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` });
    expect(answer.body.data.upsertContact.outcomes.map((o) => o.status)).toEqual([
      'CREATED',
      'CREATED',
    ]);
    requestId = answer.requestId;
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    await receiver?.close();
  });

  it('exports the operation span, continuing the caller’s trace, with a child per provider request', async () => {
    // Every request either sandbox received was made by this operation (Dotdigital may read its
    // data fields first): one client span each, plus the operation's own span.
    const received = [...s.notifuse.controls.requests, ...s.dotdigital.controls.requests];
    await eventually(() => {
      expect(receiver.spans().filter((x) => x.traceId === CLIENT_TRACE)).toHaveLength(
        received.length + 1,
      );
    });
    const spans = receiver.spans().filter((x) => x.traceId === CLIENT_TRACE);
    const operation = spans.find((x) => x.kind === SPAN_KIND_SERVER)!;
    expect(operation).toMatchObject({ name: 'mutation TracedUpsert', parentSpanId: CLIENT_SPAN });
    expect(attr(operation, 'graphql.operation.type')).toBe('mutation');
    expect(attr(operation, 'graphql.operation.name')).toBe('TracedUpsert');
    expect(attr(operation, 'contact_gateway.request_id')).toBe(requestId);
    expect(operation.resource).toMatchObject({
      'service.name': 'contact-gateway-test',
      'deployment.environment': 'test',
    });

    const children = spans.filter((x) => x.kind === SPAN_KIND_CLIENT);
    expect(children).toHaveLength(received.length);
    for (const child of children) {
      expect(child.parentSpanId).toBe(operation.spanId);
    }
    const notifuse = children.filter((c) => attr(c, 'contact_gateway.provider') === 'NOTIFUSE');
    expect(notifuse.map((c) => c.name)).toEqual([
      'POST /api/contacts.upsert',
      'POST /api/contacts.upsert',
    ]);
    expect(notifuse.map((c) => attr(c, 'http.response.status_code'))).toEqual([503, 200]);
    expect(notifuse[0]!.status?.code).toBe(STATUS_ERROR);
    const dotdigital = children.find((c) => c.name === 'PATCH /contacts/v3/email/{id}')!;
    expect(attr(dotdigital, 'contact_gateway.provider')).toBe('DOTDIGITAL');
    expect(attr(dotdigital, 'http.request.method')).toBe('PATCH');
    expect(attr(dotdigital, 'server.address')).toBe('127.0.0.1');

    // The sandboxes received `traceparent` naming exactly those spans.
    const sent = received.map((r) => r.headers['traceparent']);
    expect(sent.sort()).toEqual(children.map((c) => `00-${CLIENT_TRACE}-${c.spanId}-01`).sort());
  });

  it('puts no contact data in spans', () => {
    const text = JSON.stringify(receiver.spans());
    expect(text).not.toContain('@');
    expect(text).not.toMatch(/traced\.person|Traced"/);
  });

  it('writes the trace id on every log line of the request', () => {
    const ofRequest = s.lines.filter((l) => l['requestId'] === requestId);
    expect(ofRequest.length).toBeGreaterThanOrEqual(2);
    for (const line of ofRequest) {
      expect(line['traceId'], JSON.stringify(line)).toBe(CLIENT_TRACE);
    }
  });

  it('starts a new trace when the caller sends none', async () => {
    const before = new Set(receiver.spans().map((x) => x.traceId));
    const answer = await upsert(s);
    let fresh: string | undefined;
    await eventually(() => {
      const op = receiver
        .spans()
        .find((x) => x.kind === SPAN_KIND_SERVER && !before.has(x.traceId));
      expect(op).toBeDefined();
      expect(op!.parentSpanId ?? '').toBe('');
      fresh = op!.traceId;
    });
    expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    expect(s.lines.filter((l) => l['requestId'] === answer.requestId)[0]?.['traceId']).toBe(fresh);
  });
});

describe('tracing configuration', () => {
  it('exports protobuf by default (http/protobuf)', async () => {
    const receiver = await startReceiver();
    const s = await serve({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      OTEL_BSP_SCHEDULE_DELAY: '20',
    });
    try {
      await upsert(s, { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` });
      await eventually(() => {
        const proto = receiver.exports.filter((e) => e.contentType === 'application/x-protobuf');
        // Trace ids travel as 16 raw bytes in the protobuf encoding.
        expect(proto.some((e) => e.body.includes(Buffer.from(CLIENT_TRACE, 'hex')))).toBe(true);
      });
    } finally {
      await s.close();
      await receiver.close();
    }
  }, 120_000);

  it('is off without an exporter: no traceparent reaches the providers, no trace id in logs', async () => {
    const s = await serve({});
    try {
      const answer = await upsert(s);
      const received = s.notifuse.controls.requests.filter(
        (r) => r.path === '/api/contacts.upsert',
      );
      expect(received.length).toBeGreaterThan(0);
      for (const r of received) {
        expect(r.headers['traceparent']).toBeUndefined();
      }
      const lines = s.lines.filter((l) => l['requestId'] === answer.requestId);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.every((l) => !('traceId' in l))).toBe(true);
    } finally {
      await s.close();
    }
  }, 120_000);

  it('reads the standard variables', () => {
    const on = (env: Record<string, string>) => loadConfig(env).observability.tracing;
    expect(on({})).toBeNull();
    expect(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toMatchObject({
      exporters: ['otlp'],
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      sampler: 'parentbased_always_on',
    });
    expect(
      on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBeNull();
    expect(
      on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBeNull();
    expect(on({ OTEL_TRACES_EXPORTER: 'console' })?.exporters).toEqual(['console']);
    expect(
      on({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }),
    ).toMatchObject({
      url: 'http://localhost:4318/v1/traces',
      sampler: 'traceidratio',
      samplerRatio: 0.25,
    });
    for (const bad of [
      { OTEL_TRACES_EXPORTER: 'zipkin' },
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'sometimes' },
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign' },
    ]) {
      expect(() => loadConfig(bad), JSON.stringify(bad)).toThrow(ConfigError);
    }
    const withKey = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=vendor-secret-123',
    });
    expect(JSON.stringify(withKey)).not.toContain('vendor-secret-123');
    // Known to the start-up check of unknown variables even while tracing is off.
    const known = configVariableNames({});
    for (const name of [
      'OTEL_SERVICE_NAME',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'GATEWAY_METRICS_TOKEN',
    ]) {
      expect(known.has(name), name).toBe(true);
    }
  });
});
