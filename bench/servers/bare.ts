/**
 * The baselines, in one process on one port:
 *
 * - `POST /proxy`: a bare node:http proxy. It reads and parses the request, makes the one upstream
 *   call with undici (a Pool with the gateway's options but `BENCH_UPSTREAM_CONNECTIONS`
 *   connections, the same body the gateway's adapter sends) and answers a small JSON body: the floor for any gateway hop on this machine.
 * - `POST /graphql`: bare graphql-yoga (no plugins) with a trivial resolver (`hello`,
 *   `__typename`) and a pass-through `upsertContact` that makes the same undici call from its
 *   resolver and answers `{outcomes: [{status}]}`, the shape the gateway answers.
 *
 * `BENCH_UPSTREAM` (JSON `{url, path, headers, body}`) is the upstream call; without it only the
 * trivial resolver works.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { Pool } from 'undici';
import { DEFAULT_HTTP_OPTIONS } from '../../src/config.js';
import { serveCommands } from '../lib/child.js';

interface Upstream {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

const upstream = process.env['BENCH_UPSTREAM']
  ? (JSON.parse(process.env['BENCH_UPSTREAM']) as Upstream)
  : null;
const http = DEFAULT_HTTP_OPTIONS;
const pool = upstream
  ? new Pool(new URL(upstream.url).origin, {
      // As many upstream connections as the load has clients (BENCH_UPSTREAM_CONNECTIONS).
      connections: Number(process.env['BENCH_UPSTREAM_CONNECTIONS'] || http.connections),
      pipelining: 1,
      keepAliveTimeout: http.keepAliveTimeoutMs,
      keepAliveMaxTimeout: Math.max(http.keepAliveTimeoutMs, 60_000),
      headersTimeout: http.headersTimeoutMs,
      bodyTimeout: http.bodyTimeoutMs,
      connect: { timeout: http.connectTimeoutMs },
    })
  : null;

const STATUS: Record<string, string> = { create: 'CREATED', update: 'UPDATED' };

/** The one upstream call; answers CREATED/UPDATED from the provider's `action`. */
async function callUpstream(): Promise<string> {
  if (!pool || !upstream) {
    throw new Error('BENCH_UPSTREAM is not set');
  }
  const res = await pool.request({
    method: 'POST',
    path: upstream.path,
    headers: upstream.headers,
    body: upstream.body,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    throw new Error(`upstream answered ${res.statusCode}`);
  }
  const json = JSON.parse(text) as { action?: string };
  return STATUS[String(json.action)] ?? 'FAILED';
}

const yoga = createYoga({
  logging: false,
  landingPage: false,
  graphiql: false,
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      type Query {
        hello: String!
      }
      input AddressInput {
        country: String
        postalCode: String
      }
      input ContactInput {
        email: String
        firstName: String
        lastName: String
        address: AddressInput
      }
      type Outcome {
        status: String!
      }
      type Payload {
        outcomes: [Outcome!]!
      }
      type Mutation {
        upsertContact(input: ContactInput!): Payload!
      }
    `,
    resolvers: {
      Query: { hello: () => 'world' },
      Mutation: {
        upsertContact: async () => ({ outcomes: [{ status: await callUpstream() }] }),
      },
    },
  }),
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    JSON.parse(await readBody(req));
    const status = await callUpstream();
    const body = JSON.stringify({ data: { upsertContact: { outcomes: [{ status }] } } });
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  } catch (err) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(err instanceof Error ? err.message : String(err));
  }
}

const server = createServer((req, res) => {
  if (req.url === '/proxy') {
    void proxy(req, res);
  } else {
    void yoga(req, res);
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

serveCommands({}, { port: (server.address() as AddressInfo).port });
