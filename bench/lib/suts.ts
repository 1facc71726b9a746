/**
 * The servers under test, each in its own process, started the way their users start them:
 *
 * - `gateway` — this checkout as `npm start` starts it (`node scripts/start.mjs`, the compiled
 *   server; `startCommand`), no sandbox mode (the providers point at the bench's sandboxes; part 3
 *   also starts it in sandbox mode), the embedded store in a fresh
 *   data directory (`GATEWAY_DATA_DIR`), default log level (its log goes to a file);
 * - `gateway-pg` — the same with `DATABASE_URL` (a fresh database per phase, dropped at the end);
 * - `gateway-mem` — `createGateway`'s in-memory stores (bench/servers/gateway.ts; no user runs it);
 * - `gateway-alt…` — the same for another checkout (`BENCH_COMPARE`, e.g. the commit before);
 * - `peer` — Hive Gateway + Mesh (bench/lib/peer.ts).
 *
 * "Restart" starts the same server again on the same data directory (or database).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type Child, freePort, type ServerReady, startServer, TSX_LOADER } from './child.js';
import { peerArgv } from './peer.js';

export type Store = 'embedded' | 'postgres' | 'memory';

export interface SutSpec {
  name: string;
  kind: 'gateway' | 'peer';
  store?: Store;
  /** the source tree the gateway is built from */
  root?: string;
  /** one line for the report */
  describe: string;
}

export interface SutContext {
  /** temporary directory of this run (data directories, logs, the peer's supergraph) */
  runDir: string;
  cpu?: number;
  /** the runner's DATABASE_URL (an admin connection: the bench creates its own databases) */
  databaseUrl: string | null;
  /** `BENCH_CPU_PROF` directory, or '' */
  cpuProf: string;
  /** the peer's composed supergraph */
  supergraph?: string;
}

const THIS_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MEMORY_GATEWAY = fileURLToPath(new URL('../servers/gateway.ts', import.meta.url));

/** Gateway variants for a source tree: `gateway`, `gateway-pg`, `gateway-mem` (or `-alt…`). */
export function gatewaySpecs(
  stores: readonly Store[],
  root = THIS_ROOT,
  alt: string | null = null,
): SutSpec[] {
  const base = alt ? 'gateway-alt' : 'gateway';
  const of = alt ? ` (${alt})` : '';
  const suffix: Record<Store, string> = { embedded: '', postgres: '-pg', memory: '-mem' };
  const text: Record<Store, string> = {
    embedded: `the gateway${of}, \`npm start\`, embedded store in a fresh data directory`,
    postgres: `the gateway${of}, \`npm start\` with \`DATABASE_URL\` (a fresh database)`,
    memory: `the gateway${of}, createGateway's in-memory stores`,
  };
  return stores.map((store) => ({
    name: `${base}${suffix[store]}`,
    kind: 'gateway',
    store,
    // Absolute: the servers run in the run's directory (`SEGMENTS_COMPARE=.`).
    root: resolve(root),
    describe: text[store],
  }));
}

export const PEER_SPEC: SutSpec = {
  name: 'peer',
  kind: 'peer',
  describe: 'Hive Gateway 2.15 serving the supergraph Mesh composes from the Notifuse OpenAPI',
};

/** The database a PostgreSQL gateway of this name runs on in this phase (made fresh by the bench). */
export const dbName = (name: string, phase: string) =>
  `cgbench_${name}_${phase}`.replace(/[^a-z0-9_]/g, '_').slice(0, 60);

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Databases this run created (dropped by `dropDatabases`). */
const created = new Set<string>();

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops and creates database `db` on the server of `url` (dropped again by {@link dropDatabases}). */
export async function freshDatabase(url: string, db: string): Promise<void> {
  await admin(url, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${db}`);
  });
  created.add(db);
}

export async function dropDatabases(url: string | null): Promise<void> {
  if (!url || created.size === 0) {
    return;
  }
  await admin(url, async (c) => {
    for (const db of created) {
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    }
  });
  created.clear();
}

export interface StartOptions {
  /** `hop` (Notifuse only) or `memory` (all four providers): a data directory / database each */
  phase: string;
  /** provider variables and other settings */
  env: Record<string, string>;
  /** start from an empty data directory / database (else: a restart on the same one) */
  fresh: boolean;
  nodeFlags?: string[];
}

/** Starts a server under test; the caller stops it (`child.stop()`). */
export async function startSut(
  spec: SutSpec,
  ctx: SutContext,
  opts: StartOptions,
): Promise<Child<ServerReady>> {
  const port = await freePort();
  const tag = `${spec.name}-${opts.phase}`;
  const prof = ctx.cpuProf ? join(ctx.cpuProf, tag) : '';
  if (prof) {
    mkdirSync(prof, { recursive: true });
  }
  const nodeFlags = [
    ...(opts.nodeFlags ?? []),
    ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
  ];
  const common = {
    ...(ctx.cpu === undefined ? {} : { cpu: ctx.cpu }),
    port,
    cwd: ctx.runDir,
    logFile: join(ctx.runDir, `${tag}.log`),
  };
  if (spec.kind === 'peer') {
    if (!ctx.supergraph) {
      throw new Error('peer: no supergraph composed');
    }
    return startServer(spec.name, {
      ...common,
      env: {},
      nodeFlags,
      argv: peerArgv(ctx.supergraph, port),
    });
  }
  const root = spec.root ?? THIS_ROOT;
  const env: Record<string, string> = {
    ...opts.env,
    HOST: '127.0.0.1',
    PORT: String(port),
  };
  if (spec.store === 'memory') {
    return startServer(spec.name, {
      ...common,
      env: { ...env, BENCH_SRC_ROOT: root },
      nodeFlags: [...nodeFlags, '--import', TSX_LOADER],
      argv: [MEMORY_GATEWAY],
    });
  }
  if (spec.store === 'postgres') {
    if (!ctx.databaseUrl) {
      throw new Error(`${spec.name}: DATABASE_URL is not set`);
    }
    const db = dbName(spec.name, opts.phase);
    if (opts.fresh) {
      await freshDatabase(ctx.databaseUrl, db);
    }
    env['DATABASE_URL'] = withDatabase(ctx.databaseUrl, db);
  } else {
    const dir = join(ctx.runDir, `${tag}-data`);
    if (opts.fresh) {
      rmSync(dir, { recursive: true, force: true });
    }
    env['GATEWAY_DATA_DIR'] = dir;
  }
  // As `npm start` runs it: `node [its flags] scripts/start.mjs` (the compiled server, built once
  // beforehand so that no start measured includes a compile), or in checkouts before it,
  // `node [its flags] --import tsx src/server.ts`.
  const start = startCommand(root);
  if (start.build) {
    buildOnce(root);
  }
  return startServer(spec.name, {
    ...common,
    env,
    nodeFlags: [...nodeFlags, ...start.flags, ...(start.build ? [] : ['--import', TSX_LOADER])],
    argv: [join(root, start.entry)],
  });
}

const built = new Set<string>();
/** Brings a checkout's build up to date (`node scripts/start.mjs --build`), once per run. */
function buildOnce(root: string): void {
  if (!built.has(root)) {
    execFileSync(process.execPath, [join(root, 'scripts/start.mjs'), '--build'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    built.add(root);
  }
}

/**
 * How a checkout's `npm start` runs its server (its package.json `start` script): `node <flags>
 * scripts/start.mjs` (the compiled server, `build`), or `node <flags> --import tsx src/server.ts`
 * in checkouts before it (the tsx loader is left out of `flags`: the bench gives it by path).
 */
export function startCommand(root: string): { flags: string[]; entry: string; build: boolean } {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const words = (pkg.scripts?.['start'] ?? '').trim().split(/\s+/);
  const flags: string[] = [];
  let i = 1;
  for (; words[0] === 'node' && i < words.length && words[i]!.startsWith('-'); i += 1) {
    if (words[i] === '--import' && words[i + 1] === 'tsx') {
      i += 1;
      continue;
    }
    flags.push(words[i]!);
  }
  const entry = words[i];
  if (words[0] !== 'node' || i !== words.length - 1 || !entry) {
    throw new Error(`${root}: npm start is not \`node … <script>\`: ${pkg.scripts?.['start']}`);
  }
  if (entry === 'scripts/start.mjs') {
    return { flags, entry, build: true };
  }
  if (entry === 'src/server.ts' && words.includes('tsx')) {
    return { flags, entry, build: false };
  }
  throw new Error(`${root}: npm start runs neither scripts/start.mjs nor src/server.ts: ${entry}`);
}
