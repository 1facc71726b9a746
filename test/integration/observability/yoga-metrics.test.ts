/**
 * Yoga's operation metrics (`graphql_envelop_*`, `graphql_yoga_http_duration`) as
 * `@graphql-yoga/plugin-prometheus` counted them with the gateway's labels: the counts below are
 * what that plugin reported for the same requests, before the gateway's own plugin replaced it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';

/** Start-up opens the embedded database (seconds, more on a busy machine). */
const START_TIMEOUT_MS = 120_000;
const UPSERT =
  'mutation Up($i: ContactInput!) { upsertContact(input: $i) { outcomes { status } } }';

describe("Yoga's operation metrics", () => {
  let t: TestGateway;
  let series: Map<string, number>;

  beforeAll(async () => {
    t = await createTestGateway({}, { only: ['NOTIFUSE'] });
    const post = async (body: unknown, headers: Record<string, string> = {}) =>
      (
        await t.gateway.yoga.fetch('http://gateway/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        })
      ).text();
    await post({ query: UPSERT, variables: { i: { email: 'metrics.a@example.com' } } });
    await post({ query: UPSERT, variables: { i: { email: 'not-an-email' } } });
    await post({ query: '{ __typename }' });
    // The operation run is a mutation; the document's first definition, a query.
    await post({ query: 'query Q { __typename } mutation M { __typename }', operationName: 'M' });
    await post({ query: '{ nope }' }); // validation error
    await post({ query: '{ ' }); // parse error
    await post({ query: '{ __schema { queryType { name } } }' }); // introspection: not counted
    await post({ query: 'fragment F on Query { __typename } query { ...F }' });
    await post({ query: '{ contact(id: "") { id } }' }); // an execution error
    await post('not json'); // never parsed: no operation metric
    // A subscription over SSE (added after the plugin was replaced), watching an id that never
    // changes: the client hangs up after the stream opened. It counts as one request when the
    // stream ends, with no execute phase.
    const hangUp = new AbortController();
    const stream = await t.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({
        query: 'subscription S { writeUpdated(ids: ["nope"]) { id status } }',
      }),
      signal: hangUp.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    hangUp.abort();
    await stream.text().catch(() => undefined);
    // The stream's end is counted once the server saw the hang-up: wait for it (bounded).
    for (let i = 0; i < 100; i += 1) {
      const now = await (await t.gateway.yoga.fetch('http://gateway/metrics')).text();
      if (now.includes('graphql_envelop_request{operationType="subscription"}')) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await (
      await t.gateway.yoga.fetch('http://gateway/graphql?query=%7B__typename%7D', {
        headers: { 'graphql-require-preflight': '1' },
      })
    ).text();
    const text = await (await t.gateway.yoga.fetch('http://gateway/metrics')).text();
    series = new Map(
      text
        .split('\n')
        .filter((l) => l.startsWith('graphql_') && !l.includes('_bucket{') && !l.includes('_sum'))
        .map((l) => {
          const at = l.lastIndexOf(' ');
          return [l.slice(0, at), Number(l.slice(at + 1))] as const;
        }),
    );
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await t?.close();
  });

  it('counts each phase by the type of the first definition', () => {
    expect(Object.fromEntries(series)).toEqual({
      'graphql_yoga_http_duration_count{method="POST",statusCode="200",operationType="mutation"}': 3,
      'graphql_yoga_http_duration_count{method="POST",statusCode="200",operationType="query"}': 5,
      'graphql_yoga_http_duration_count{method="GET",statusCode="200",operationType="query"}': 1,
      'graphql_envelop_phase_parse_count{operationType="mutation"}': 2,
      'graphql_envelop_phase_parse_count{operationType="query"}': 5,
      'graphql_envelop_phase_parse_count{operationType="undefined"}': 2,
      'graphql_envelop_phase_validate_count{operationType="mutation"}': 2,
      'graphql_envelop_phase_validate_count{operationType="query"}': 5,
      'graphql_envelop_phase_validate_count{operationType="undefined"}': 1,
      'graphql_envelop_phase_execute_count{operationType="mutation"}': 2,
      'graphql_envelop_phase_execute_count{operationType="query"}': 4,
      'graphql_envelop_phase_execute_count{operationType="undefined"}': 1,
      'graphql_envelop_request_duration_count{operationType="mutation"}': 2,
      'graphql_envelop_request_duration_count{operationType="query"}': 4,
      'graphql_envelop_request_duration_count{operationType="undefined"}': 1,
      'graphql_envelop_error_result{operationType="query",phase="validate"}': 1,
      'graphql_envelop_error_result{operationType="undefined",phase="parse"}': 1,
      'graphql_envelop_error_result{operationType="query",phase="execute"}': 1,
      'graphql_envelop_request{operationType="mutation"}': 2,
      'graphql_envelop_request{operationType="query"}': 4,
      'graphql_envelop_request{operationType="undefined"}': 1,
      'graphql_yoga_http_duration_count{method="POST",statusCode="200",operationType="subscription"}': 1,
      'graphql_envelop_phase_parse_count{operationType="subscription"}': 1,
      'graphql_envelop_phase_validate_count{operationType="subscription"}': 1,
      'graphql_envelop_request_duration_count{operationType="subscription"}': 1,
      'graphql_envelop_request{operationType="subscription"}': 1,
    });
  });
});
