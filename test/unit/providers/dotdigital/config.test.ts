import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { configuredProviders, loadConfig } from '../../../../src/config.js';
import { configProblems } from '../../../helpers/config.js';

const CREDENTIALS = {
  DOTDIGITAL_URL: 'https://r1-api.dotdigital.com',
  DOTDIGITAL_USERNAME: 'apiuser-1@apiconnector.com',
  DOTDIGITAL_PASSWORD: 'very-secret-password',
};

describe('Dotdigital credentials in the environment', () => {
  it('enables Dotdigital when its credentials are set, and never prints the password', () => {
    const c = loadConfig({ ...CREDENTIALS, DOTDIGITAL_DATA_FIELD_MAP: '{"plan":"PLAN"}' });
    expect(configuredProviders(c)).toEqual(['DOTDIGITAL']);
    expect(c.dotdigital?.username).toBe(CREDENTIALS.DOTDIGITAL_USERNAME);
    expect(c.dotdigital?.password.reveal()).toBe('very-secret-password');
    expect(c.dotdigital?.dataFieldMap).toEqual({ plan: 'PLAN' });
    expect(JSON.stringify(c)).not.toContain('very-secret-password');
    expect(inspect(c, { depth: 10 })).not.toContain('very-secret-password');
  });

  it('asks for the password of a half-configured Dotdigital (the URL has a default)', () => {
    expect(configProblems({ DOTDIGITAL_USERNAME: 'u' })).toEqual([
      'DOTDIGITAL_PASSWORD is required when Dotdigital is configured',
    ]);
  });
});
