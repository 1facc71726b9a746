/**
 * The peer (`npm run bench -- --peer`): what a team that needs GraphQL over Notifuse could run
 * instead of us, GraphQL Hive Gateway serving a supergraph that GraphQL Mesh composes from
 * Notifuse's OpenAPI document. Installed into a cache folder outside the project
 * (`BENCH_PEER_DIR`, default `~/.cache/contact-gateway-bench/peer`; never a dependency of the
 * project), composed at every run from the document the contract tests hold
 * (`src/specs/notifuse.openapi.json`) with the sandbox as endpoint, and run by its own CLI
 * (`hive-gateway supergraph`, one process, its defaults).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Exact versions (the issue names 2.15.x, 1.8.x, 0.112.x); all run on Node 20. */
export const PEER_PACKAGES: Record<string, string> = {
  '@graphql-hive/gateway': '2.15.1',
  '@graphql-mesh/compose-cli': '1.8.2',
  '@omnigraph/openapi': '0.112.4',
  graphql: '16.15.0',
};

export const PEER_DIR =
  process.env['BENCH_PEER_DIR'] || join(homedir(), '.cache', 'contact-gateway-bench', 'peer');

const SPEC = fileURLToPath(new URL('../../src/specs/notifuse.openapi.json', import.meta.url));

function installedVersion(pkg: string): string | null {
  try {
    const file = join(PEER_DIR, 'node_modules', pkg, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/** `npm install --prefix PEER_DIR` the exact versions, unless they are there already. */
export function installPeer(log: (line: string) => void): Record<string, string> {
  const missing = Object.entries(PEER_PACKAGES).filter(([p, v]) => installedVersion(p) !== v);
  if (missing.length > 0) {
    mkdirSync(PEER_DIR, { recursive: true });
    writeFileSync(
      join(PEER_DIR, 'package.json'),
      `${JSON.stringify({ name: 'contact-gateway-bench-peer', private: true, dependencies: PEER_PACKAGES }, null, 2)}\n`,
    );
    log(
      `peer: npm install --prefix ${PEER_DIR} (${missing.map(([p, v]) => `${p}@${v}`).join(', ')})`,
    );
    execFileSync(
      'npm',
      ['install', '--prefix', PEER_DIR, '--no-audit', '--no-fund', '--loglevel=error'],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  }
  return Object.fromEntries(Object.keys(PEER_PACKAGES).map((p) => [p, installedVersion(p) ?? '?']));
}

/**
 * Composes the supergraph (Mesh Compose over the OpenAPI document, the sandbox as endpoint, the
 * sandbox's API key as a static header) into `dir`; returns its path.
 */
export function composePeer(opts: { endpoint: string; apiKey: string; dir: string }): string {
  const config = join(PEER_DIR, 'mesh.config.ts');
  // The config is written next to the peer's node_modules so that its imports resolve there.
  writeFileSync(
    config,
    `// written by contact-gateway's bench/lib/peer.ts at every run
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('Notifuse', {
        source: ${JSON.stringify(SPEC)},
        endpoint: ${JSON.stringify(opts.endpoint)},
        operationHeaders: { Authorization: ${JSON.stringify(`Bearer ${opts.apiKey}`)} },
      }),
    },
  ],
});
`,
  );
  const out = join(opts.dir, 'supergraph.graphql');
  execFileSync(
    process.execPath,
    [join(PEER_DIR, 'node_modules/@graphql-mesh/compose-cli/esm/bin.js'), '-c', config, '-o', out],
    { cwd: PEER_DIR, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (!existsSync(out) || !readFileSync(out, 'utf8').includes('upsertContact(')) {
    throw new Error(`peer: Mesh Compose wrote no upsertContact mutation to ${out}`);
  }
  return out;
}

/** The peer's CLI: `hive-gateway supergraph <file> --host 127.0.0.1 --port <port>`. */
export function peerArgv(supergraph: string, port: number): string[] {
  return [
    join(PEER_DIR, 'node_modules/@graphql-hive/gateway/dist/bin.js'),
    'supergraph',
    supergraph,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
  ];
}

/** One `upsertContact` in Notifuse's own field names (the variables are Notifuse's request body). */
export const PEER_UPSERT_DOCUMENT =
  'mutation Upsert($i: UpsertContactRequest_Input) { upsertContact(input: $i) { ... on UpsertContactResponse { action } } }';

/** `{data: {upsertContact: {action: create|update}}}` and nothing else. */
export const peerUpsertAnswer = (body: string) =>
  /^\{"data":\{"upsertContact":\{"action":"(create|update)"\}\}\}$/.test(body);

/**
 * One request that imports `contacts` through Notifuse's batch route, `chunk` contacts per call
 * (the gateway's Notifuse batch size): one aliased `batchImportContacts` per chunk.
 */
export function peerImport(
  workspaceId: string,
  contacts: ReadonlyArray<Record<string, unknown>>,
  chunk: number,
): { query: string; variables: Record<string, unknown>; calls: number } {
  const calls = Math.ceil(contacts.length / chunk);
  const vars = Array.from({ length: calls }, (_, i) => `$c${i}: BatchImportContactsRequest_Input`);
  const fields = Array.from(
    { length: calls },
    (_, i) => `b${i}: batchImportContacts(input: $c${i}) { __typename }`,
  );
  const variables = Object.fromEntries(
    Array.from({ length: calls }, (_, i) => [
      `c${i}`,
      { workspace_id: workspaceId, contacts: contacts.slice(i * chunk, (i + 1) * chunk) },
    ]),
  );
  return {
    query: `mutation Import(${vars.join(', ')}) { ${fields.join(' ')} }`,
    variables,
    calls,
  };
}
