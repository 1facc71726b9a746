import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { runCli } from '../../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** `main` of the CLI in this process (a clean environment): its exit code and all it printed. */
async function runMain(args: readonly string[]): Promise<{ code: number; output: string }> {
  let output = '';
  const capture = (chunk: string | Uint8Array) => {
    output += String(chunk);
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    return { code: await main(args, {}), output };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

// Usage errors are decided by `main` before anything is sent: checked in this process. That the
// bin turns `main`'s answer into the process's exit code is checked below with real processes.
describe('contact-gateway usage: exit code 2, no gateway needed', () => {
  let dir: string;
  let csv: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cg-usage-'));
    csv = join(dir, 'contacts.csv');
    await writeFile(csv, 'email\na@example.com\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['no command', [], /Usage: contact-gateway import/],
    ['an unknown command', ['export', 'x.csv'], /unknown command "export"/],
    ['no file', ['import'], /missing the file to import/],
    ['a missing file', ['import', '/nonexistent/contacts.csv'], /no such file: \/nonexistent/],
    ['an unknown option', ['import', 'CSV', '--bogus'], /Unknown option '--bogus'/],
    ['a bad --map', ['import', 'CSV', '--map', 'Plan=plan'], /unknown field "plan"/],
    ['a --map without =', ['import', 'CSV', '--map', 'email'], /expected column=field/],
    ['a bad --map guess', ['import', 'CSV', '--map', 'x=first_name'], /did you mean firstName\?/],
    ['an unknown provider', ['import', 'CSV', '--providers', 'MAILCHIMP'], /unknown: MAILCHIMP/],
    ['a bad --chunk-size', ['import', 'CSV', '--chunk-size', '0'], /--chunk-size/],
    ['a bad --url', ['import', 'CSV', '--url', 'ftp://x'], /--url must be an http\(s\) URL/],
  ])('%s → exit 2', async (_name, args, message) => {
    const res = await runMain(args.map((a) => (a === 'CSV' ? csv : a)));
    expect(res.code).toBe(2);
    expect(res.output).toMatch(message);
  });
});

// Each case is a CLI process of its own, started while the others run.
describe.concurrent("contact-gateway as a process: main's answer is the exit code", () => {
  it('a usage error → exit 2, the reason on stderr', async () => {
    const res = await runCli(['import', '--bogus']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Unknown option '--bogus'/);
  }, 60_000);

  it('--help → exit 0, usage on stdout', async () => {
    const res = await runCli(['import', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/--report FILE/);
  }, 60_000);

  it('runs as `npm run import` from the repository (TypeScript through tsx, no build)', async () => {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('npm', ['run', '--silent', 'import', '--', '--help'], {
        cwd: ROOT,
        stdio: 'ignore',
      });
      child.once('error', reject);
      child.once('close', resolve);
    });
    expect(code).toBe(0);
  }, 60_000);
});
