/** The measuring side: one keep-alive undici connection per target, timed with hrtime. */
import { Agent, Client, request } from 'undici';

export interface Target {
  name: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Whether a response is the right one (checked after the timer stops). */
  check(status: number, text: string): boolean;
}

export interface Probe {
  readonly target: Target;
  /** One request; its latency in ms. Throws when the response fails `check`. */
  once(): Promise<number>;
  close(): Promise<void>;
}

export function probe(target: Target): Probe {
  const client = new Client(target.origin, { pipelining: 1, keepAliveTimeout: 30_000 });
  return {
    target,
    async once() {
      const start = process.hrtime.bigint();
      const res = await client.request({
        method: 'POST',
        path: target.path,
        headers: target.headers,
        body: target.body,
      });
      const text = await res.body.text();
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (!target.check(res.statusCode, text)) {
        throw new Error(
          `${target.name}: unexpected response ${res.statusCode} ${text.slice(0, 300)}`,
        );
      }
      return ms;
    },
    close: () => client.close(),
  };
}

/** A GraphQL answer `{data: {upsertContact: {outcomes: [{status: CREATED|UPDATED}]}}}`. */
export function upsertOk(status: number, text: string): boolean {
  if (status !== 200) {
    return false;
  }
  const json = JSON.parse(text) as {
    data?: { upsertContact?: { outcomes?: Array<{ status?: string }> } };
    errors?: unknown;
  };
  const outcomes = json.data?.upsertContact?.outcomes ?? [];
  return (
    json.errors === undefined &&
    outcomes.length === 1 &&
    (outcomes[0]!.status === 'CREATED' || outcomes[0]!.status === 'UPDATED')
  );
}

/** No timeouts: a 10,000-contact batch on a loaded machine may take minutes. */
const patient = new Agent({ headersTimeout: 0, bodyTimeout: 0 });

/** POSTs a GraphQL operation and returns `data`; throws on errors or a non-200. */
export async function gql<T = Record<string, unknown>>(
  origin: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await request(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
    dispatcher: patient,
  });
  const text = await res.body.text();
  let json: { data?: T; errors?: unknown };
  try {
    json = JSON.parse(text) as { data?: T; errors?: unknown };
  } catch {
    throw new Error(`GraphQL ${res.statusCode}: ${text.slice(0, 500)}`);
  }
  if (res.statusCode !== 200 || json.errors !== undefined) {
    throw new Error(
      `GraphQL ${res.statusCode}: ${JSON.stringify(json.errors ?? json).slice(0, 500)}`,
    );
  }
  return json.data as T;
}
