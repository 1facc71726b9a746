import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('starts in sandbox mode with defaults when no credentials are set', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 4000, host: '127.0.0.1', sandboxMode: true, notifuse: null });
    expect(c.notifuseOptions).toEqual({ batchSize: 500, customFieldMap: {}, readConcurrency: 8 });
    expect(Object.isFrozen(c.http)).toBe(true);
  });

  it('fails fast listing every missing variable of a half-configured provider', () => {
    let error: unknown;
    try {
      loadConfig({ NOTIFUSE_API_KEY: 'k', SFMC_CLIENT_ID: 'id' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.sort()).toEqual([
      'NOTIFUSE_URL is required when Notifuse is configured',
      'NOTIFUSE_WORKSPACE_ID is required when Notifuse is configured',
      'SFMC_AUTH_URL is required when Salesforce Marketing Cloud is configured',
      'SFMC_CLIENT_SECRET is required when Salesforce Marketing Cloud is configured',
    ]);
    expect((error as Error).message).not.toContain('k\n');
  });

  it('sizes provider pools by their in-flight limit unless HTTP_CONNECTIONS is set', () => {
    const unset = loadConfig({});
    expect(unset.http.connections).toBeNull();
    // Notifuse documents no limit on its authenticated routes; the others are held to 16.
    expect(unset.resilience.NOTIFUSE.maxInFlight).toBe(64);
    expect(unset.resilience.DOTDIGITAL.maxInFlight).toBe(16);
    expect(loadConfig({ HTTP_CONNECTIONS: '48' }).http.connections).toBe(48);
    expect(() => loadConfig({ HTTP_CONNECTIONS: '0' })).toThrow(/HTTP_CONNECTIONS/);
  });

  it('sizes the PostgreSQL pool from DATABASE_POOL_SIZE (default 4)', () => {
    expect(loadConfig({}).storage.poolSize).toBe(4);
    expect(loadConfig({ DATABASE_POOL_SIZE: '12' }).storage.poolSize).toBe(12);
    for (const bad of ['0', '-1', 'four', '2.5', '1001']) {
      expect(() => loadConfig({ DATABASE_POOL_SIZE: bad })).toThrow(/DATABASE_POOL_SIZE/);
    }
  });

  it('refuses bad values with the variable named', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  });
});
