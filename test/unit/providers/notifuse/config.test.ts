import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { configuredProviders, loadConfig } from '../../../../src/config.js';

describe('Notifuse credentials in the environment', () => {
  it('enables Notifuse when its credentials are set, and never prints the key', () => {
    const c = loadConfig({
      NOTIFUSE_URL: 'https://notifuse.example.com',
      NOTIFUSE_API_KEY: 'eyJhbGciOi.secret.value',
      NOTIFUSE_WORKSPACE_ID: 'ws_1',
      NOTIFUSE_CUSTOM_FIELD_MAP: '{"plan":"custom_string_1"}',
    });
    expect(c.sandboxMode).toBe(false);
    expect(configuredProviders(c)).toEqual(['NOTIFUSE']);
    expect(c.notifuse?.apiKey.reveal()).toBe('eyJhbGciOi.secret.value');
    expect(c.notifuse?.customFieldMap).toEqual({ plan: 'custom_string_1' });
    expect(JSON.stringify(c)).not.toContain('secret.value');
    expect(inspect(c, { depth: 10 })).not.toContain('secret.value');
    expect(String(c.notifuse?.apiKey)).toBe('[redacted]');
  });

  it('refuses bad values with the variable named', () => {
    expect(() => loadConfig({ NOTIFUSE_BATCH_SIZE: '501' })).toThrow(/NOTIFUSE_BATCH_SIZE/);
    expect(() => loadConfig({ NOTIFUSE_CUSTOM_FIELD_MAP: '{"plan":"first_name"}' })).toThrow(
      /NOTIFUSE_CUSTOM_FIELD_MAP/,
    );
    expect(() =>
      loadConfig({ NOTIFUSE_URL: 'ftp://x', NOTIFUSE_API_KEY: 'k', NOTIFUSE_WORKSPACE_ID: 'w' }),
    ).toThrow(/NOTIFUSE_URL must be an http\(s\) URL/);
  });
});
