/**
 * The two ends of the bench's process plumbing. Every server under test runs in its own Node
 * process (pinned to a core with `taskset` where it exists); the runner talks to it over the IPC
 * channel only, so nothing the bench needs (memory probes, sandbox request counts) sits on the
 * request path being measured.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Handler = (args: Record<string, unknown>) => unknown;

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Built into every child: CPU time used so far (user + system, µs). */
const cpu: Handler = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/**
 * Child side: answer the runner's commands (plus `cpu`); `ready` tells it the server is listening.
 */
export function serveCommands(handlers: Record<string, Handler>, ready: unknown): void {
  if (!process.send) {
    throw new Error('bench servers are started by bench/index.ts (they need the IPC channel)');
  }
  process.on('message', (raw: { id: number; cmd: string; args?: Record<string, unknown> }) => {
    void (async () => {
      let reply: Reply;
      try {
        const handler = raw.cmd === 'cpu' ? cpu : handlers[raw.cmd];
        if (!handler) {
          throw new Error(`unknown command ${raw.cmd}`);
        }
        reply = { id: raw.id, ok: true, result: await handler(raw.args ?? {}) };
      } catch (err) {
        reply = { id: raw.id, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
      process.send?.(reply);
    })();
  });
  // The runner going away (Ctrl-C, crash) takes the server with it.
  process.on('disconnect', () => process.exit(0));
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
export async function startChild<Ready>(
  name: string,
  file: string,
  opts: StartChildOptions = {},
): Promise<Child<Ready>> {
  const script = fileURLToPath(new URL(`../servers/${file}`, import.meta.url));
  const nodeArgs = [...(opts.nodeFlags ?? []), '--import', 'tsx', script];
  const pinned = opts.cpu !== undefined && hasTaskset();
  const [cmd, args] = pinned
    ? ['taskset', ['-c', String(opts.cpu), process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const proc: ChildProcess = spawn(cmd, args as string[], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...opts.env },
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
        // SIGINT lets a --cpu-prof child write its profile; the child exits on disconnect too.
        proc.kill('SIGINT');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
