import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Gateway } from '../../src/app.js';

export const CLI_BIN = fileURLToPath(new URL('../../bin/contact-gateway.mjs', import.meta.url));
const TIME = '/usr/bin/time';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Peak resident set size of the CLI in bytes, when measured (`/usr/bin/time -v`). */
  peakRss?: number;
}

export interface CliProcess {
  child: ChildProcess;
  /** Resolves once stderr matches. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  done: Promise<CliRun>;
}

/**
 * Runs `contact-gateway <args>` as a child process (the bin, as a user runs it), with a clean
 * environment plus `env`. With `measure`, runs it under GNU time for its peak RSS.
 */
export function startCli(
  args: readonly string[],
  opts: { env?: Record<string, string>; measure?: boolean } = {},
): CliProcess {
  const measure = opts.measure === true && existsSync(TIME);
  const command = measure ? TIME : process.execPath;
  const argv = measure ? ['-v', process.execPath, CLI_BIN, ...args] : [CLI_BIN, ...args];
  const child = spawn(command, argv, {
    env: { PATH: process.env['PATH'] ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of [...waiters]) {
      const m = stderr.match(w.pattern);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const done = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        ...(rss ? { peakRss: Number(rss[1]) * 1024 } : {}),
      });
    });
  });
  return {
    child,
    done,
    waitFor(pattern) {
      const m = stderr.match(pattern);
      if (m) {
        return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void done.then(() =>
          reject(new Error(`the CLI ended before printing ${pattern}:\n${stderr}`)),
        );
      });
    },
  };
}

export function runCli(
  args: readonly string[],
  opts: { env?: Record<string, string>; measure?: boolean } = {},
): Promise<CliRun> {
  return startCli(args, opts).done;
}

/** Serves a gateway on a loopback port (the CLI is a real HTTP client). */
export async function listen(
  gateway: Gateway,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(gateway.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
