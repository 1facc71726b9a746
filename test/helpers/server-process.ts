import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { type RunningSandboxes, SANDBOXES } from '../../src/sandbox-mode.js';

export interface SpawnedServer {
  child: ChildProcess;
  /** Every stdout line so far, as printed. */
  lines: string[];
  /** Every stdout line so far, parsed (a line that is not JSON is `{ msg: line }`). */
  logs: Array<Record<string, unknown>>;
  /** stderr so far. */
  stderr(): string;
  /** The exit code (null when ended by a signal). */
  exited: Promise<number | null>;
  /** The first log entry that matches, as soon as it is logged; rejects if the process exits first. */
  waitForLog(match: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServerProcess extends SpawnedServer {
  /** The GraphQL URL the server logged. */
  url: string;
}

export interface ServerProcessOptions {
  /** The command's arguments after `node`. @default ['--import', 'tsx', 'src/server.ts'] */
  args?: readonly string[];
  /**
   * Added to a minimal environment (PATH, PORT=0, HOST=127.0.0.1, LOG_LEVEL=info, LOG_FORMAT=json
   * and `GATEWAY_DATA_DIR`); `undefined` removes a variable of that environment.
   */
  env?: Record<string, string | undefined>;
  /** The gateway's data directory, e.g. the same one across a restart. @default a fresh one */
  dataDir?: string;
  /** Sandboxes of this process the gateway calls as its providers (their URLs and credentials). */
  providers?: RunningSandboxes;
  /** How long to wait for the URL log line. @default 90000 */
  startTimeoutMs?: number;
}

/** The variables that point a gateway process at sandboxes running in this process. */
export function providerEnv(sandboxes: RunningSandboxes): Record<string, string> {
  return Object.fromEntries(
    sandboxes.sandboxes.flatMap(({ provider, sandbox }) =>
      Object.entries(SANDBOXES.find((d) => d.provider === provider)!.env(sandbox.url)),
    ),
  );
}

const spawned: ChildProcess[] = [];

/** SIGKILLs every server process the helpers started that is still running (for afterAll). */
export function killServerProcesses(): void {
  for (const c of spawned.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
    }
  }
}

/**
 * The real server process, as a user starts it, without waiting for it to listen (for a start that
 * must fail). Its own embedded database in a temporary directory, not ./data of the checkout.
 */
export function spawnServerProcess(opts: ServerProcessOptions = {}): SpawnedServer {
  const env: Record<string, string | undefined> = {
    PATH: process.env['PATH'] ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    GATEWAY_DATA_DIR: opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gateway-process-')),
    ...(opts.providers ? providerEnv(opts.providers) : {}),
    ...opts.env,
  };
  const child = spawn(process.execPath, [...(opts.args ?? ['--import', 'tsx', 'src/server.ts'])], {
    env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.push(child);
  const lines: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const waiters = new Set<(entry: Record<string, unknown>) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      entry = { msg: line };
    }
    logs.push(entry);
    for (const w of [...waiters]) {
      w(entry);
    }
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    lines,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(match) {
      const seen = logs.find(match);
      if (seen) {
        return Promise.resolve(seen);
      }
      return new Promise((resolve, reject) => {
        const waiter = (entry: Record<string, unknown>) => {
          if (match(entry)) {
            waiters.delete(waiter);
            resolve(entry);
          }
        };
        waiters.add(waiter);
        void exited.then((code) => {
          if (waiters.delete(waiter)) {
            reject(new Error(`server exited with ${code}: ${lines.join('\n')}\n${stderr}`));
          }
        });
      });
    },
    async kill() {
      if (!gone()) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    async stop(graceMs = 10_000) {
      if (gone()) {
        return;
      }
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** {@link spawnServerProcess}, resolved once the server logged its URL. */
export async function startServerProcess(opts: ServerProcessOptions = {}): Promise<ServerProcess> {
  const server = spawnServerProcess(opts);
  let timer: NodeJS.Timeout | undefined;
  const entry = await Promise.race([
    server.waitForLog((l) => typeof l['url'] === 'string'),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`server did not start: ${server.lines.join('\n')} ${server.stderr()}`)),
        opts.startTimeoutMs ?? 90_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  return Object.assign(server, { url: entry['url'] as string });
}

/** POSTs a GraphQL operation to a server process; the parsed answer. */
export async function postGraphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: T };
}
