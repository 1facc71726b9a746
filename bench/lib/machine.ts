/** What the figures were measured on: machine, versions, load, and anything else running. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on Linux). */
let clockTicks: number | null = null;
function ticksPerSecond(): number {
  if (clockTicks === null) {
    const out = Number(sh('getconf', ['CLK_TCK']));
    clockTicks = Number.isFinite(out) && out > 0 ? out : 100;
  }
  return clockTicks;
}

/**
 * CPU time (µs, user + system) the PostgreSQL server processes serving `database` have used so
 * far, read from `/proc`; null when none is found (no `/proc`, or the server runs elsewhere). A
 * server process's title names its database (`postgres: … <user> <database> <client> …`).
 */
export function postgresCpuUs(database: string): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  let ticks = 0;
  let found = false;
  for (const pid of pids) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.startsWith('postgres: ') || !cmd.includes(` ${database} `)) {
        continue;
      }
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      found = true;
    } catch {
      // the process ended meanwhile
    }
  }
  return found ? (ticks * 1_000_000) / ticksPerSecond() : null;
}
