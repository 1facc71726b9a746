import { z } from 'zod';
import { startDigitalOnboardingSandbox } from '../../sandbox/digital-onboarding/index.js';
import { Secret } from '../../secret.js';
import { defineProvider, sandboxOf } from '../descriptor.js';
import { intVar, optionalVar } from '../env.js';
import type { DigitalOnboardingConfig, DigitalOnboardingOptions } from './config.js';
import { createDigitalOnboardingAdapter } from './index.js';
import { digitalOnboardingProviderOptions } from './options.js';

declare module '../../model/contact.js' {
  interface ProviderNames {
    DIGITAL_ONBOARDING: 'Digital Onboarding';
  }
}

/** Its sandbox: the credentials it accepts, and the variables that point a gateway at it. */
const SANDBOX = sandboxOf(
  ({ token, clientId, clientSecret, host, port }) =>
    startDigitalOnboardingSandbox({
      token,
      client: { id: clientId, secret: clientSecret },
      host,
      port,
    }),
  {
    defaultPort: 4104,
    envName: 'DIGITAL_ONBOARDING',
    credentials: {
      token: 'sandbox-digital-onboarding-token',
      clientId: 'sandbox-do-client',
      clientSecret: 'sandbox-do-client-secret',
    },
    env: { DIGITAL_ONBOARDING_URL: 'url', DIGITAL_ONBOARDING_TOKEN: 'token' },
  },
);

export const digitalOnboardingProvider = defineProvider({
  id: 'DIGITAL_ONBOARDING',
  description: 'Digital Onboarding (partner API v2).',
  key: 'digitalOnboarding',
  envPrefixes: ['DIGITAL_ONBOARDING_'],
  providerOptions: digitalOnboardingProviderOptions,
  // No published figure: a polite guess; set your account's.
  resilience: {
    prefix: 'DIGITAL_ONBOARDING',
    timeoutMs: 30_000,
    ratePerSecond: 10,
    maxInFlight: 16,
  },
  createAdapter: createDigitalOnboardingAdapter,
  sandbox: SANDBOX,
  env: {
    DIGITAL_ONBOARDING_URL: z.string().default('https://api.digitalonboarding.com'),
    DIGITAL_ONBOARDING_TOKEN: optionalVar,
    DIGITAL_ONBOARDING_CLIENT_ID: optionalVar,
    DIGITAL_ONBOARDING_CLIENT_SECRET: optionalVar,
    DIGITAL_ONBOARDING_AUTH_URL: optionalVar,
    DIGITAL_ONBOARDING_TOKEN_REFRESH_SKEW_SECONDS: intVar(60, 0, 900),
    DIGITAL_ONBOARDING_BATCH_SIZE: intVar(100, 1, 10_000),
    DIGITAL_ONBOARDING_CONCURRENCY: intVar(8, 1, 64),
  },
  read(e, tools) {
    const { problems } = tools;
    const options: DigitalOnboardingOptions = {
      batchSize: e.DIGITAL_ONBOARDING_BATCH_SIZE,
      concurrency: e.DIGITAL_ONBOARDING_CONCURRENCY,
      tokenRefreshSkewSeconds: e.DIGITAL_ONBOARDING_TOKEN_REFRESH_SKEW_SECONDS,
    };
    let config: DigitalOnboardingConfig | null = null;
    const client = tools.requireAll('Digital Onboarding client credentials', {
      DIGITAL_ONBOARDING_CLIENT_ID: e.DIGITAL_ONBOARDING_CLIENT_ID,
      DIGITAL_ONBOARDING_CLIENT_SECRET: e.DIGITAL_ONBOARDING_CLIENT_SECRET,
    });
    if (e.DIGITAL_ONBOARDING_AUTH_URL !== undefined && !client) {
      problems.push(
        'DIGITAL_ONBOARDING_AUTH_URL needs DIGITAL_ONBOARDING_CLIENT_ID and DIGITAL_ONBOARDING_CLIENT_SECRET',
      );
    }
    if (client && e.DIGITAL_ONBOARDING_TOKEN !== undefined) {
      problems.push(
        'set either DIGITAL_ONBOARDING_TOKEN or DIGITAL_ONBOARDING_CLIENT_ID/_CLIENT_SECRET, not both',
      );
    }
    if (e.DIGITAL_ONBOARDING_TOKEN !== undefined || client) {
      tools.checkUrl('DIGITAL_ONBOARDING_URL', e.DIGITAL_ONBOARDING_URL);
      tools.checkUrl('DIGITAL_ONBOARDING_AUTH_URL', e.DIGITAL_ONBOARDING_AUTH_URL);
      config = {
        ...options,
        url: e.DIGITAL_ONBOARDING_URL,
        token:
          e.DIGITAL_ONBOARDING_TOKEN !== undefined ? new Secret(e.DIGITAL_ONBOARDING_TOKEN) : null,
        clientCredentials: client
          ? {
              clientId: e.DIGITAL_ONBOARDING_CLIENT_ID!,
              clientSecret: new Secret(e.DIGITAL_ONBOARDING_CLIENT_SECRET!),
              authUrl:
                e.DIGITAL_ONBOARDING_AUTH_URL ??
                `${e.DIGITAL_ONBOARDING_URL.replace(/\/+$/, '')}/oauth2/token`,
            }
          : null,
      };
    }
    return { options, config };
  },
});
