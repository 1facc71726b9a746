import { z } from 'zod';
import { CONTACT_FIELDS } from '../../model/contact.js';
import { startSalesforceMcSandbox } from '../../sandbox/salesforce-mc/index.js';
import { Secret } from '../../secret.js';
import { defineProvider, sandboxOf } from '../descriptor.js';
import { type EnvTools, intVar, optionalVar } from '../env.js';
import type { SalesforceMcAttributeTarget, SalesforceMcOptions } from './config.js';
import { createSalesforceMcAdapter } from './index.js';
import { salesforceMcProviderOptions } from './options.js';

declare module '../../model/contact.js' {
  interface ProviderNames {
    SALESFORCE_MC: 'Salesforce MC';
  }
}

/** Unified fields the SFMC attribute map may not move: channel addresses and HTML Enabled. */
const SFMC_FIXED_FIELDS = new Set(['email', 'phone', 'emailFormat']);
const SFMC_NAME = z.string().trim().min(1).max(128);
const SFMC_MAPPABLE = new Set<string>(CONTACT_FIELDS.filter((f) => f !== 'customFields'));

/**
 * `SFMC_ATTRIBUTE_MAP`: `{"<unified field>": {"set": "<attribute set>", "attribute": "<name>"} | null}`.
 * Keys are unified leaves (`address.city`) or `customFields.<key>`.
 */
function parseSfmcAttributeMap(
  raw: string | undefined,
  tools: EnvTools,
): Record<string, SalesforceMcAttributeTarget | null> {
  const { problems } = tools;
  const target = z.object({ set: SFMC_NAME, attribute: SFMC_NAME }).strict().nullable();
  const map = tools.json(
    'SFMC_ATTRIBUTE_MAP',
    raw,
    z.record(z.string().min(1), target),
    'values must be {"set": "<attribute set>", "attribute": "<attribute>"} or null',
  );
  if (map === undefined) {
    return {};
  }
  const keys = Object.keys(map);
  const fixed = keys.filter((k) => SFMC_FIXED_FIELDS.has(k));
  const unknown = keys.filter(
    (k) => !SFMC_FIXED_FIELDS.has(k) && !(SFMC_MAPPABLE.has(k) || /^customFields\.[^.]+$/.test(k)),
  );
  if (fixed.length > 0) {
    problems.push(`SFMC_ATTRIBUTE_MAP cannot remap ${fixed.join(', ')} (fixed channel attributes)`);
  }
  if (unknown.length > 0) {
    problems.push(
      `SFMC_ATTRIBUTE_MAP: ${unknown.join(', ')} not unified fields (use e.g. firstName, address.city, customFields.<key>)`,
    );
  }
  if (fixed.length > 0 || unknown.length > 0) {
    return {};
  }
  return map;
}

/** Its sandbox: the credentials it accepts, and the variables that point a gateway at it. */
const SANDBOX = sandboxOf(startSalesforceMcSandbox, {
  defaultPort: 4103,
  envName: 'SFMC',
  credentials: {
    clientId: 'sandbox-sfmc-client',
    clientSecret: 'sandbox-sfmc-client-secret',
  },
  env: {
    SFMC_AUTH_URL: 'url',
    SFMC_CLIENT_ID: 'clientId',
    SFMC_CLIENT_SECRET: 'clientSecret',
  },
});

export const salesforceMcProvider = defineProvider({
  id: 'SALESFORCE_MC',
  description: 'Salesforce Marketing Cloud (Contacts REST).',
  schemaNotes: {
    'Mutation.upsertContacts': 'Salesforce MC writes one contact per call',
    'ProviderOutcome.droppedFields': 'Salesforce MC',
  },
  key: 'salesforceMc',
  envPrefixes: ['SALESFORCE_', 'SFMC_'],
  providerOptions: salesforceMcProviderOptions,
  // No published figure for these endpoints: guesses that keep a 10 000-contact batch polite.
  resilience: { prefix: 'SFMC', timeoutMs: 30_000, ratePerSecond: 50, maxInFlight: 16 },
  createAdapter: createSalesforceMcAdapter,
  sandbox: SANDBOX,
  env: {
    SFMC_AUTH_URL: optionalVar,
    SFMC_CLIENT_ID: optionalVar,
    SFMC_CLIENT_SECRET: optionalVar,
    SFMC_ACCOUNT_ID: optionalVar,
    SFMC_CONTACT_KEY: z.enum(['externalId', 'email']).default('externalId'),
    SFMC_ATTRIBUTE_MAP: optionalVar,
    SFMC_CONCURRENCY: intVar(8, 1, 64),
    SFMC_KEY_LOOKUP: z.enum(['on', 'off']).default('on'),
    SFMC_SEARCH_BATCH_SIZE: intVar(50, 1, 500),
    SFMC_DEFAULT_LOCALE: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code')
      .default('US')
      .transform((v) => v.toUpperCase()),
    SFMC_TOKEN_REFRESH_SKEW_SECONDS: intVar(60, 0, 900),
  },
  read(e, tools) {
    const options: SalesforceMcOptions = {
      contactKey: e.SFMC_CONTACT_KEY,
      attributeMap: parseSfmcAttributeMap(e.SFMC_ATTRIBUTE_MAP, tools),
      concurrency: e.SFMC_CONCURRENCY,
      searchBatchSize: e.SFMC_SEARCH_BATCH_SIZE,
      defaultLocale: e.SFMC_DEFAULT_LOCALE,
      tokenRefreshSkewSeconds: e.SFMC_TOKEN_REFRESH_SKEW_SECONDS,
      keyLookup: e.SFMC_KEY_LOOKUP === 'on',
    };
    return tools.configured(options, (set) => ({
      authUrl: set.SFMC_AUTH_URL,
      clientId: set.SFMC_CLIENT_ID,
      clientSecret: new Secret(set.SFMC_CLIENT_SECRET),
      accountId: set.SFMC_ACCOUNT_ID ?? null,
    }));
  },
  credentialVars: {
    group: 'Salesforce Marketing Cloud',
    required: ['SFMC_AUTH_URL', 'SFMC_CLIENT_ID', 'SFMC_CLIENT_SECRET'],
  },
});
