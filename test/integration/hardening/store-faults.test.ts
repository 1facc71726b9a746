import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/store/db.js';
import { StoreUnavailableError } from '../../../src/store/errors.js';

/**
 * #13 item 6 without a PostgreSQL server: a `DATABASE_URL` whose port accepts connections and
 * never answers (it used to hang the start with no log line), and one that refuses them. The
 * paused-server case during requests is store-faults.pg.test.ts (run by .ci/run with PostgreSQL).
 */
let silent: Server;
let silentPort = 0;
const held: Socket[] = [];
let closedPort = 0;

beforeAll(async () => {
  silent = createServer((socket) => {
    // Accept, read, never answer.
    held.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
  // A port nothing listens on: bound, then released.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  for (const s of held) {
    s.destroy();
  }
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

const url = (port: number) => `postgres://gateway:s3cret-pw@127.0.0.1:${port}/contacts`;

describe('DATABASE_URL that does not answer', () => {
  it('the start fails with one log line naming the server and the bound, exit code 1', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        PORT: '0',
        LOG_FORMAT: 'json',
        DATABASE_URL: url(silentPort),
        DATABASE_CONNECT_TIMEOUT_MS: '500',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: string[] = [];
    const stderr: string[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => stdout.push(l));
    createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
    const code = await new Promise<number | null>((resolve) =>
      child.once('exit', (c) => resolve(c)),
    );
    expect(code).toBe(1);
    expect(stderr).toEqual([]);
    expect(stdout).toHaveLength(1);
    const line = JSON.parse(stdout[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 60,
      store: 'postgres',
      reason: 'connect',
      msg: `cannot start: PostgreSQL at 127.0.0.1:${silentPort}/contacts did not answer within 500 ms (DATABASE_CONNECT_TIMEOUT_MS)`,
    });
    expect(stdout[0]).not.toContain('s3cret-pw');
  }, 60_000);

  it('opening the database rejects with StoreUnavailableError (connect) instead of waiting', async () => {
    const err = await openDatabase({
      databaseUrl: url(silentPort),
      dataDir: 'memory://',
      connectTimeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err).toMatchObject({ reason: 'connect', retryable: true });
    expect((err as Error).message).not.toContain('s3cret-pw');
  });

  it('a port that refuses connections is StoreUnavailableError (connection, ECONNREFUSED)', async () => {
    const err = await openDatabase({
      databaseUrl: url(closedPort),
      dataDir: 'memory://',
      connectTimeoutMs: 5_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).reason).toBe('connection');
    expect((err as Error).message).toBe(
      `PostgreSQL at 127.0.0.1:${closedPort}/contacts is unreachable (ECONNREFUSED)`,
    );
  });
});
