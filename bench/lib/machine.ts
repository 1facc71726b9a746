/** What the figures were measured on: machine, versions, load, and anything else running. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const PACKAGES = [
  'graphql-yoga',
  'graphql',
  'undici',
  '@pothos/core',
  'better-sqlite3',
  'pg',
  'autocannon',
] as const;

function version(pkg: string): string {
  try {
    const json = JSON.parse(readFileSync(`${root}node_modules/${pkg}/package.json`, 'utf8')) as {
      version?: string;
    };
    return json.version ?? '?';
  } catch {
    return 'not installed';
  }
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memGiB: number;
  os: string;
  node: string;
  versions: Record<string, string>;
  commit: string;
}

export function machine(): Machine {
  const cpus = os.cpus();
  const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['status', '--porcelain', '--', 'src']) !== '';
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    versions: Object.fromEntries(PACKAGES.map((p) => [p, version(p)])),
    commit: commit ? `${commit}${dirty ? ' + uncommitted changes in src/' : ''}` : 'unknown',
  };
}

export interface Quiet {
  load1: number;
  /** other processes that disturb figures (test runners) */
  others: string[];
}

/** Load average and test runners other than us. */
export function quietness(): Quiet {
  const others = sh('pgrep', ['-fa', 'vitest'])
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('pgrep'));
  return { load1: Math.round(os.loadavg()[0]! * 100) / 100, others };
}
