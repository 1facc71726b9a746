import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../../src/config.js';

describe('Digital Onboarding credentials in the environment', () => {
  it('client credentials enable the provider; the token endpoint defaults to {URL}/oauth2/token', () => {
    const config = loadConfig({
      DIGITAL_ONBOARDING_URL: 'https://do.example.com/',
      DIGITAL_ONBOARDING_CLIENT_ID: 'id',
      DIGITAL_ONBOARDING_CLIENT_SECRET: 'very-secret',
    });
    const d = config.digitalOnboarding!;
    expect(d.token).toBeNull();
    expect(d.clientCredentials).toMatchObject({
      clientId: 'id',
      authUrl: 'https://do.example.com/oauth2/token',
    });
    expect(d.tokenRefreshSkewSeconds).toBe(60);
    expect(JSON.stringify(config)).not.toContain('very-secret');
  });

  it('takes DIGITAL_ONBOARDING_AUTH_URL and _TOKEN_REFRESH_SKEW_SECONDS', () => {
    const d = loadConfig({
      DIGITAL_ONBOARDING_CLIENT_ID: 'id',
      DIGITAL_ONBOARDING_CLIENT_SECRET: 's',
      DIGITAL_ONBOARDING_AUTH_URL: 'https://auth.example.com/token',
      DIGITAL_ONBOARDING_TOKEN_REFRESH_SKEW_SECONDS: '120',
    }).digitalOnboarding!;
    expect(d.clientCredentials!.authUrl).toBe('https://auth.example.com/token');
    expect(d.tokenRefreshSkewSeconds).toBe(120);
  });

  it('refuses half a pair, an auth URL alone, and a token together with client credentials', () => {
    expect(() => loadConfig({ DIGITAL_ONBOARDING_CLIENT_ID: 'id' })).toThrow(
      /DIGITAL_ONBOARDING_CLIENT_SECRET is required/,
    );
    expect(() => loadConfig({ DIGITAL_ONBOARDING_AUTH_URL: 'https://a.example.com' })).toThrow(
      ConfigError,
    );
    expect(() =>
      loadConfig({
        DIGITAL_ONBOARDING_TOKEN: 't',
        DIGITAL_ONBOARDING_CLIENT_ID: 'id',
        DIGITAL_ONBOARDING_CLIENT_SECRET: 's',
      }),
    ).toThrow(/not both/);
  });

  it('a static token alone still works', () => {
    const d = loadConfig({ DIGITAL_ONBOARDING_TOKEN: 'tok' }).digitalOnboarding!;
    expect(d.token?.reveal()).toBe('tok');
    expect(d.clientCredentials).toBeNull();
  });
});
