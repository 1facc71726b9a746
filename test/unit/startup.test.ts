import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  configVariableNames,
  describeListenError,
  describeUnknownVariable,
  findUnknownVariables,
  LISTEN_FAILED_EXIT_CODE,
} from '../../src/startup.js';

const SHELL_ENV = {
  PATH: '/usr/bin',
  HOME: '/root',
  HOSTNAME: 'box',
  HOST: '127.0.0.1',
  PWD: '/app',
  OLDPWD: '/',
  TERM: 'xterm',
  LANG: 'C.UTF-8',
  SHELL: '/bin/bash',
  USER: 'root',
  LOGNAME: 'root',
  TMPDIR: '/tmp',
  SHLVL: '1',
  CI: 'true',
  NODE_ENV: 'production',
  NODE_OPTIONS: '--max-old-space-size=512',
  npm_config_cache: '/root/.npm',
  npm_lifecycle_event: 'start',
  PORT: '4000',
};

describe('the variables the configuration reads', () => {
  it('are found by reading loadConfig, sub-parsers included', () => {
    const names = configVariableNames();
    for (const name of [
      'PORT',
      'HOST',
      'LOG_LEVEL',
      'GATEWAY_API_KEYS',
      'GATEWAY_GRAPHIQL',
      'DATABASE_URL',
      'NOTIFUSE_URL',
      'NOTIFUSE_MAX_IN_FLIGHT',
      'DOTDIGITAL_PASSWORD',
      'SFMC_CLIENT_SECRET',
      'DIGITAL_ONBOARDING_TOKEN',
      'RETRY_MAX_ATTEMPTS',
      'BREAKER_THRESHOLD',
    ]) {
      expect(names, name).toContain(name);
    }
  });
});

describe('unknown variables', () => {
  it('a typo gets a "did you mean", an unknown prefixed name a plain warning', () => {
    const env = {
      ...SHELL_ENV,
      NOTIFSE_URL: 'https://notifuse.example.com',
      GATEWAY_API_KEY: '[]',
      notifuse_api_key: 'k',
      DATABASE_URLL: 'postgres://x',
      GATEWAY_COLOUR: 'blue',
    };
    expect(findUnknownVariables(env)).toEqual([
      { name: 'DATABASE_URLL', suggestion: 'DATABASE_URL' },
      { name: 'GATEWAY_API_KEY', suggestion: 'GATEWAY_API_KEYS' },
      { name: 'GATEWAY_COLOUR', suggestion: null },
      { name: 'NOTIFSE_URL', suggestion: 'NOTIFUSE_URL' },
      { name: 'notifuse_api_key', suggestion: 'NOTIFUSE_API_KEY' },
    ]);
    expect(describeUnknownVariable({ name: 'NOTIFSE_URL', suggestion: 'NOTIFUSE_URL' })).toBe(
      'unknown variable NOTIFSE_URL is ignored: did you mean NOTIFUSE_URL?',
    );
  });

  it('says nothing of a shell’s usual variables or of the gateway’s own', () => {
    expect(findUnknownVariables({ ...SHELL_ENV, NOTIFUSE_URL: 'https://n.example.com' })).toEqual(
      [],
    );
  });
});

describe('a start that cannot listen', () => {
  it('names the variable to change', () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(describeListenError(inUse, '127.0.0.1', 4000)).toMatch(
      /127\.0\.0\.1:4000.*taken.*set PORT/,
    );
    const notHere = Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' });
    expect(describeListenError(notHere, '10.9.9.9', 4000)).toMatch(/Set HOST/);
    expect(describeListenError(new Error('other'), '127.0.0.1', 4000)).toBeNull();
  });

  it('the real process warns of a typo, then exits 3 on a taken port saying PORT', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        env: {
          PATH: process.env['PATH'] ?? '',
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_FORMAT: 'json',
          GATEWAY_DATA_DIR: 'memory://',
          NOTIFSE_URL: 'https://notifuse.example.com',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(lines.find((l) => l.level === 40)?.msg).toBe(
        'unknown variable NOTIFSE_URL is ignored: did you mean NOTIFUSE_URL?',
      );
      expect(lines.find((l) => l.level === 60)?.msg).toBe(
        `cannot listen on 127.0.0.1:${port}: the port is taken by another process. Stop it, or set PORT to another port (PORT=0 takes any free one).`,
      );
      expect(out).not.toContain('EADDRINUSE:');
      expect(code).toBe(LISTEN_FAILED_EXIT_CODE);
    } finally {
      holder.close();
    }
  }, 120_000);
});
