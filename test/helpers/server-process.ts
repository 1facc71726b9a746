import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  child: ChildProcess;
  /** The GraphQL URL the server logged. */
  url: string;
  /** Every JSON log line so far (stdout). */
  logs: Array<Record<string, unknown>>;
  /** stderr so far. */
  stderr(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServerProcessOptions {
  /** The command's arguments after `node`. @default ['--import', 'tsx', 'src/server.ts'] */
  args?: readonly string[];
  /** Added to a minimal environment (PATH, PORT=0, HOST=127.0.0.1, a fresh GATEWAY_DATA_DIR). */
  env?: Record<string, string>;
  /** How long to wait for the URL log line. @default 90000 */
  startTimeoutMs?: number;
}

/**
 * The real server process on a free loopback port, as a user starts it, resolved once it logged
 * its URL. Its own embedded database in a temporary directory, not ./data of the checkout.
 */
export async function startServerProcess(opts: ServerProcessOptions = {}): Promise<ServerProcess> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    GATEWAY_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'gateway-process-')),
    ...opts.env,
  };
  const child = spawn(process.execPath, [...(opts.args ?? ['--import', 'tsx', 'src/server.ts'])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start: ${JSON.stringify(logs)} ${stderr}`)),
      opts.startTimeoutMs ?? 90_000,
    );
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: line };
      }
      logs.push(entry);
      if (typeof entry['url'] === 'string') {
        clearTimeout(timer);
        resolve(entry['url']);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
  return {
    child,
    url,
    logs,
    stderr: () => stderr,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
