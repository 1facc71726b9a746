import { z } from 'zod';
import { startDotdigitalSandbox } from '../../sandbox/dotdigital/index.js';
import { Secret } from '../../secret.js';
import { defineProvider, sandboxOf } from '../descriptor.js';
import { intVar, optionalVar } from '../env.js';
import type { DotdigitalOptions } from './config.js';
import { createDotdigitalAdapter } from './index.js';
import { dotdigitalProviderOptions } from './options.js';

declare module '../../model/contact.js' {
  interface ProviderNames {
    DOTDIGITAL: 'Dotdigital';
  }
}

/** Its sandbox: the credentials it accepts, and the variables that point a gateway at it. */
const SANDBOX = sandboxOf(startDotdigitalSandbox, {
  defaultPort: 4102,
  envName: 'DOTDIGITAL',
  credentials: {
    username: 'apiuser-sandbox@apiconnector.com',
    password: 'sandbox-dotdigital-password',
  },
  env: {
    DOTDIGITAL_URL: 'url',
    DOTDIGITAL_USERNAME: 'username',
    DOTDIGITAL_PASSWORD: 'password',
  },
});

export const dotdigitalProvider = defineProvider({
  id: 'DOTDIGITAL',
  description: 'Dotdigital (API v3 contacts).',
  schemaNotes: {
    'ProviderError.code': 'Dotdigital `contacts:idAlreadyExists`',
    'ProviderOutcome.droppedFields': 'Dotdigital',
    'WriteKind.IMPORT_POLL': 'a Dotdigital import, `importId`',
    'Write.importId': 'Dotdigital: the import this write waits for (or waited for).',
  },
  key: 'dotdigital',
  envPrefixes: ['DOTDIGITAL_'],
  providerOptions: dotdigitalProviderOptions,
  // Dotdigital documents that a call may take up to 121 s (DD-9); the rate is a polite guess.
  resilience: { prefix: 'DOTDIGITAL', timeoutMs: 121_000, ratePerSecond: 10, maxInFlight: 16 },
  createAdapter: createDotdigitalAdapter,
  sandbox: SANDBOX,
  env: {
    DOTDIGITAL_URL: z.string().default('https://r1-api.dotdigital.com'),
    DOTDIGITAL_USERNAME: optionalVar,
    DOTDIGITAL_PASSWORD: optionalVar,
    DOTDIGITAL_DATA_FIELD_MAP: optionalVar,
    DOTDIGITAL_BATCH_SIZE: intVar(1000, 1, 10_000),
    DOTDIGITAL_IMPORT_MAX_WAIT_MS: intVar(20_000, 0, 600_000),
    DOTDIGITAL_IMPORT_POLL_INTERVAL_MS: intVar(200, 10, 60_000),
    DOTDIGITAL_CONCURRENCY: intVar(8, 1, 64),
    DOTDIGITAL_CREATE_DATA_FIELDS: z.enum(['0', '1']).default('0'),
    DOTDIGITAL_DATA_FIELDS_TTL_MS: intVar(300_000, 0, 86_400_000),
  },
  read(e, tools) {
    const options: DotdigitalOptions = {
      dataFieldMap: tools.jsonMap(
        'DOTDIGITAL_DATA_FIELD_MAP',
        e.DOTDIGITAL_DATA_FIELD_MAP,
        z.string().regex(/^[A-Za-z0-9_]{1,100}$/),
        'values must be Dotdigital data field names (letters, digits, _)',
      ),
      batchSize: e.DOTDIGITAL_BATCH_SIZE,
      importMaxWaitMs: e.DOTDIGITAL_IMPORT_MAX_WAIT_MS,
      importPollIntervalMs: e.DOTDIGITAL_IMPORT_POLL_INTERVAL_MS,
      concurrency: e.DOTDIGITAL_CONCURRENCY,
      createDataFields: e.DOTDIGITAL_CREATE_DATA_FIELDS === '1',
      dataFieldsTtlMs: e.DOTDIGITAL_DATA_FIELDS_TTL_MS,
    };
    return tools.configured(options, (set) => ({
      url: set.DOTDIGITAL_URL,
      username: set.DOTDIGITAL_USERNAME,
      password: new Secret(set.DOTDIGITAL_PASSWORD),
    }));
  },
  credentialVars: { group: 'Dotdigital', required: ['DOTDIGITAL_USERNAME', 'DOTDIGITAL_PASSWORD'] },
});
