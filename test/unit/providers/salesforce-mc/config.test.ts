import { describe, expect, it } from 'vitest';
import { configuredProviders, loadConfig } from '../../../../src/config.js';
import { configProblems } from '../../../helpers/config.js';

const CREDENTIALS = {
  SFMC_AUTH_URL: 'https://mcabc.auth.marketingcloudapis.com/',
  SFMC_CLIENT_ID: 'client',
  SFMC_CLIENT_SECRET: 'very-secret-value',
};

describe('config: Salesforce Marketing Cloud', () => {
  it('has working defaults, with or without credentials', () => {
    const defaults = {
      contactKey: 'externalId',
      attributeMap: {},
      concurrency: 8,
      searchBatchSize: 50,
      defaultLocale: 'US',
      tokenRefreshSkewSeconds: 60,
      keyLookup: true,
    };
    const none = loadConfig({});
    expect(none.salesforceMcOptions).toEqual(defaults);
    expect(none.salesforceMc).toBeNull();
    const c = loadConfig(CREDENTIALS);
    expect(configuredProviders(c)).toEqual(['SALESFORCE_MC']);
    expect(c.salesforceMc).toMatchObject({
      ...defaults,
      authUrl: CREDENTIALS.SFMC_AUTH_URL,
      clientId: 'client',
      accountId: null,
    });
    expect(JSON.stringify(c)).not.toContain('very-secret-value');
    expect(c.salesforceMc!.clientSecret.reveal()).toBe('very-secret-value');
  });

  it('reads every SFMC_* option', () => {
    const c = loadConfig({
      ...CREDENTIALS,
      SFMC_ACCOUNT_ID: '514009876',
      SFMC_CONTACT_KEY: 'email',
      SFMC_ATTRIBUTE_MAP: JSON.stringify({
        jobTitle: { set: 'Email Demographics', attribute: 'Job Title' },
        'customFields.plan': { set: 'Loyalty', attribute: 'Plan' },
        lastName: null,
      }),
      SFMC_CONCURRENCY: '4',
      SFMC_SEARCH_BATCH_SIZE: '100',
      SFMC_DEFAULT_LOCALE: 'gb',
      SFMC_TOKEN_REFRESH_SKEW_SECONDS: '120',
    });
    expect(c.salesforceMc).toMatchObject({
      accountId: '514009876',
      contactKey: 'email',
      attributeMap: {
        jobTitle: { set: 'Email Demographics', attribute: 'Job Title' },
        'customFields.plan': { set: 'Loyalty', attribute: 'Plan' },
        lastName: null,
      },
      concurrency: 4,
      searchBatchSize: 100,
      defaultLocale: 'GB',
      tokenRefreshSkewSeconds: 120,
    });
  });

  it.each([
    ['not JSON', '{', 'SFMC_ATTRIBUTE_MAP must be a JSON object'],
    ['a string value', '{"firstName":"First Name"}', 'SFMC_ATTRIBUTE_MAP: values must be'],
    ['a channel field', '{"email":{"set":"S","attribute":"A"}}', 'cannot remap email'],
    ['an unknown field', '{"shoeSize":{"set":"S","attribute":"A"}}', 'shoeSize not unified fields'],
  ])('refuses an attribute map with %s', (_name, map, message) => {
    expect(configProblems({ ...CREDENTIALS, SFMC_ATTRIBUTE_MAP: map }).join('\n')).toContain(
      message,
    );
  });

  it('refuses a bad key mode, locale or concurrency', () => {
    expect(configProblems({ SFMC_CONTACT_KEY: 'phone' })[0]).toMatch(/^SFMC_CONTACT_KEY/);
    expect(configProblems({ SFMC_DEFAULT_LOCALE: 'USA' })[0]).toMatch(/^SFMC_DEFAULT_LOCALE/);
    expect(configProblems({ SFMC_CONCURRENCY: '0' })[0]).toMatch(/^SFMC_CONCURRENCY/);
  });
});
