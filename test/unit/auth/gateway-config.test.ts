import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { isLoopbackHost } from '../../../src/http-server/options.js';
import { configProblems } from '../../helpers/config.js';

const KEYS = JSON.stringify([
  { name: 'web', key: 'web-key-0123456789abcdefghijkl', scopes: ['contacts:read'] },
]);

describe('gateway configuration (GATEWAY_*, NODE_ENV)', () => {
  it('defaults: anonymous, GraphiQL on, no CORS origins, documented limits', () => {
    expect(loadConfig({}).gateway).toEqual({
      production: false,
      apiKeys: [],
      graphiql: true,
      corsOrigins: [],
      rateLimitPerMinute: 600,
      maxBodyBytes: 5 * 1024 * 1024,
      limits: { maxDepth: 8, maxAliases: 15, maxTokens: 2000, maxCost: 5000 },
    });
  });

  it('production turns GraphiQL (and with it introspection) off unless GATEWAY_GRAPHIQL=1', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).gateway).toMatchObject({
      production: true,
      graphiql: false,
    });
    expect(loadConfig({ NODE_ENV: 'production', GATEWAY_GRAPHIQL: '1' }).gateway.graphiql).toBe(
      true,
    );
    expect(loadConfig({ GATEWAY_GRAPHIQL: '0' }).gateway.graphiql).toBe(false);
  });

  it('without keys listens on loopback only: a non-loopback HOST is refused', () => {
    for (const host of [
      '127.0.0.1',
      '127.8.0.1',
      '::1',
      '[::1]',
      'localhost',
      '::ffff:127.0.0.1',
    ]) {
      expect(configProblems({ HOST: host }), host).toEqual([]);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'gateway.internal', '192.168.1.2']) {
      expect(configProblems({ HOST: host }), host).toEqual([
        `HOST=${host} is not a loopback address: without GATEWAY_API_KEYS the gateway serves this machine only (127.0.0.1, ::1, localhost). Set GATEWAY_API_KEYS to accept other machines.`,
      ]);
    }
  });

  it('with keys accepts any HOST', () => {
    const c = loadConfig({ HOST: '0.0.0.0', GATEWAY_API_KEYS: KEYS });
    expect(c.host).toBe('0.0.0.0');
    expect(c.gateway.apiKeys.map((k) => k.name)).toEqual(['web']);
    expect(JSON.stringify(c)).not.toContain('web-key-0123456789abcdefghijkl');
  });

  it('a broken GATEWAY_API_KEYS stops the start without quoting it', () => {
    const found = configProblems({
      GATEWAY_API_KEYS: '[{"name":"web","key":"too-short-secret","scopes":["contacts:read"]}]',
    });
    expect(found).toEqual(['GATEWAY_API_KEYS[0].key: must be at least 24 characters']);
    expect(found.join()).not.toContain('too-short-secret');
  });

  it('GATEWAY_CORS_ORIGINS takes exact origins, never * or a path', () => {
    expect(
      loadConfig({
        GATEWAY_CORS_ORIGINS:
          'https://app.example.com, http://localhost:5173,https://app.example.com',
      }).gateway.corsOrigins,
    ).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(
      configProblems({ GATEWAY_CORS_ORIGINS: '*,https://a.example.com/path,ftp://x.example.com' }),
    ).toEqual([
      'GATEWAY_CORS_ORIGINS: "*" is not an origin (scheme://host[:port], no path, no *)',
      'GATEWAY_CORS_ORIGINS: "https://a.example.com/path" is not an origin (scheme://host[:port], no path, no *)',
      'GATEWAY_CORS_ORIGINS: "ftp://x.example.com" is not an origin (scheme://host[:port], no path, no *)',
    ]);
  });

  it('reads the limits and refuses nonsense', () => {
    const c = loadConfig({
      GATEWAY_RATE_LIMIT_PER_MINUTE: '0',
      GATEWAY_MAX_BODY_BYTES: '65536',
      GATEWAY_MAX_DEPTH: '5',
      GATEWAY_MAX_ALIASES: '2',
      GATEWAY_MAX_TOKENS: '500',
      GATEWAY_MAX_COST: '900',
    }).gateway;
    expect(c).toMatchObject({
      rateLimitPerMinute: 0,
      maxBodyBytes: 65536,
      limits: { maxDepth: 5, maxAliases: 2, maxTokens: 500, maxCost: 900 },
    });
    expect(() => loadConfig({ GATEWAY_MAX_DEPTH: 'deep' })).toThrow(/GATEWAY_MAX_DEPTH/);
    expect(() => loadConfig({ GATEWAY_GRAPHIQL: 'yes' })).toThrow(/GATEWAY_GRAPHIQL/);
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback addresses from others', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('::')).toBe(false);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
  });
});
