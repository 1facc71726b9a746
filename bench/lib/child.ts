/**
 * The two ends of the bench's process plumbing. Every server under test runs in its own Node
 * process (pinned to a core with `taskset` where it exists); the runner talks to it over the IPC
 * channel only, so nothing the bench needs (memory probes, sandbox request counts) sits on the
 * request path being measured.
 */
import {
  type ChildProcess,
  execFileSync,
  type StdioOptions,
  spawn,
  spawnSync,
} from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { answerCommands } from './probe.mjs';

type Handler = (args: Record<string, unknown>) => unknown;

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/**
 * Child side: answer the runner's commands (plus probe.mjs's built-in ones: `cpu`, `rss`, `mem`,
 * …); `ready` tells it the server is listening.
 */
export function serveCommands(handlers: Record<string, Handler>, ready: unknown): void {
  if (!process.send) {
    throw new Error('bench servers are started by bench/index.ts (they need the IPC channel)');
  }
  answerCommands(handlers);
  // A clean exit (not death by signal) so that `--cpu-prof` writes its profile.
  process.on('SIGINT', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  process.send({ ready });
}

let tasksetChecked: boolean | undefined;

/** Whether `taskset` is available (util-linux); without it nothing is pinned. */
export function hasTaskset(): boolean {
  if (tasksetChecked === undefined) {
    try {
      execFileSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' });
      tasksetChecked = true;
    } catch {
      tasksetChecked = false;
    }
  }
  return tasksetChecked;
}

/**
 * Runs the calling script again under `taskset -c <core>` (once: the pinned run has
 * `BENCH_PINNED=1`) and exits with its status; returns at once in the pinned run, or where there is
 * no taskset or fewer than two cores. The runner holds the probe and autocannon: unpinned, the
 * kernel woke it on the server's core when a response arrived (the waker's core), where it
 * pre-empted the server for 0.4–1.4 ms per request.
 */
export function pinRunner(core: number, entry: string): void {
  // os.cpus(), not availableParallelism(): once pinned, the latter is 1.
  if (!hasTaskset() || os.cpus().length < 2 || process.env['BENCH_PINNED'] === '1') {
    return;
  }
  const res = spawnSync(
    'taskset',
    ['-c', String(core), process.execPath, ...process.execArgv, entry, ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, BENCH_PINNED: '1' } },
  );
  process.exit(res.status ?? 1);
}

export interface Child<Ready> {
  readonly name: string;
  readonly ready: Ready;
  readonly pid: number;
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export interface StartChildOptions {
  /** Core to pin the process to (ignored without taskset). */
  cpu?: number;
  env?: Record<string, string>;
  /** Extra Node flags, e.g. `--expose-gc`, `--cpu-prof`. */
  nodeFlags?: string[];
}

/** Parent side: start `bench/servers/<file>` under tsx and wait until it says it is ready. */
export function startChild<Ready>(
  name: string,
  file: string,
  opts: StartChildOptions = {},
): Promise<Child<Ready>> {
  const script = fileURLToPath(new URL(`../servers/${file}`, import.meta.url));
  return spawnChild<Ready>(name, [...(opts.nodeFlags ?? []), '--import', 'tsx', script], {
    env: { ...process.env, ...opts.env },
    ...(opts.cpu === undefined ? {} : { cpu: opts.cpu }),
    stopSignal: 'SIGINT',
  });
}

/** tsx's loader, by absolute URL (a server under test may run with another working directory). */
export const TSX_LOADER = import.meta.resolve('tsx');
const PROBE = new URL('./probe.mjs', import.meta.url).href;

export interface StartServerOptions {
  cpu?: number;
  /** The whole environment (nothing of the runner's is inherited but PATH and HOME). */
  env: Record<string, string>;
  /** The port the server listens on (it is ready once the port accepts a connection). */
  port: number;
  cwd: string;
  /** File that receives the server's stdout and stderr (its log). */
  logFile: string;
  /** Node flags before the entry point (loaders, `--expose-gc`, `--cpu-prof`). */
  nodeFlags?: string[];
  /** The entry point and its arguments. */
  argv: string[];
}

/**
 * Parent side: a server under test run as its users run it (the gateway's `src/server.ts` as
 * `npm start` runs it, the peer's CLI), with bench/lib/probe.mjs preloaded to answer the runner's
 * commands. Stopped with SIGTERM (its own graceful shutdown), SIGKILL after 15 s.
 */
export function startServer(name: string, opts: StartServerOptions): Promise<Child<ServerReady>> {
  const log = openSync(opts.logFile, 'a');
  return spawnChild<ServerReady>(
    name,
    [...(opts.nodeFlags ?? []), '--import', PROBE, ...opts.argv],
    {
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: process.env['HOME'] ?? opts.cwd,
        ...opts.env,
        BENCH_PROBE_PORT: String(opts.port),
      },
      ...(opts.cpu === undefined ? {} : { cpu: opts.cpu }),
      cwd: opts.cwd,
      stdio: ['ignore', log, log, 'ipc'],
      stopSignal: 'SIGTERM',
    },
  ).finally(() => closeSync(log));
}

export interface ServerReady {
  port: number;
  /** ms from the probe's load (process start) to the port accepting connections */
  startMs: number;
}

/** A free loopback port (closed again before it is handed out). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function spawnChild<Ready>(
  name: string,
  nodeArgs: string[],
  opts: {
    cpu?: number;
    env: NodeJS.ProcessEnv;
    cwd?: string;
    stdio?: StdioOptions;
    stopSignal: NodeJS.Signals;
  },
): Promise<Child<Ready>> {
  const pinned = opts.cpu !== undefined && hasTaskset();
  const [cmd, args] = pinned
    ? ['taskset', ['-c', String(opts.cpu), process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const proc: ChildProcess = spawn(cmd, args as string[], {
    stdio: opts.stdio ?? ['ignore', 'inherit', 'inherit', 'ipc'],
    env: opts.env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  const ready = await new Promise<Ready>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`${name} exited (code ${code}) before it was ready`));
    proc.once('exit', onExit);
    proc.once('error', reject);
    proc.on('message', (msg: { ready?: Ready } & Partial<Reply>) => {
      if (msg.ready !== undefined) {
        proc.off('exit', onExit);
        resolve(msg.ready);
        return;
      }
      const waiter = msg.id === undefined ? undefined : pending.get(msg.id);
      if (waiter && msg.id !== undefined) {
        pending.delete(msg.id);
        if (msg.ok) {
          waiter.resolve(msg.result);
        } else {
          waiter.reject(new Error(`${name}: ${msg.error}`));
        }
      }
    });
  });
  void exited.then((code) => {
    for (const w of pending.values()) {
      w.reject(new Error(`${name} exited (code ${code})`));
    }
    pending.clear();
  });
  return {
    name,
    ready,
    pid: proc.pid ?? -1,
    call<T>(cmd: string, args: Record<string, unknown> = {}) {
      return new Promise<T>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        proc.send({ id, cmd, args });
      });
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        // SIGINT / SIGTERM let a --cpu-prof child write its profile (and the gateway close its
        // stores); the child exits on disconnect too.
        proc.kill(opts.stopSignal);
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
