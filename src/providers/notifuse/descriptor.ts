import { z } from 'zod';
import { startNotifuseSandbox } from '../../sandbox/notifuse/index.js';
import { Secret } from '../../secret.js';
import { defineProvider, sandboxOf } from '../descriptor.js';
import { intVar, optionalVar } from '../env.js';
import type { NotifuseOptions } from './config.js';
import { createNotifuseAdapter } from './index.js';
import { notifuseProviderOptions } from './options.js';

declare module '../../model/contact.js' {
  interface ProviderNames {
    NOTIFUSE: 'Notifuse';
  }
}

const NOTIFUSE_COLUMN = /^custom_(string|number|datetime|json)_[1-5]$/;

/** Its sandbox: the credentials it accepts, and the variables that point a gateway at it. */
const SANDBOX = sandboxOf(startNotifuseSandbox, {
  defaultPort: 4101,
  envName: 'NOTIFUSE',
  credentials: { apiKey: 'sandbox-notifuse-api-key', workspaceId: 'sandbox' },
  env: {
    NOTIFUSE_URL: 'url',
    NOTIFUSE_API_KEY: 'apiKey',
    NOTIFUSE_WORKSPACE_ID: 'workspaceId',
  },
});

export const notifuseProvider = defineProvider({
  id: 'NOTIFUSE',
  description: 'Notifuse (self-hosted, `/api/contacts.*`).',
  schemaNotes: {
    'ProviderRecord.remoteId': 'Notifuse: the email it is stored under',
    'ProviderOutcome.remoteId': 'Notifuse: the email',
    'ContactInput.customFields':
      'Notifuse: its column names custom_string_1…custom_json_5, or NOTIFUSE_CUSTOM_FIELD_MAP',
  },
  key: 'notifuse',
  envPrefixes: ['NOTIFUSE_'],
  providerOptions: notifuseProviderOptions,
  // Notifuse publishes nothing (and has no limiter on API routes); a self-hosted service: 15 s,
  // and 64 calls at once (the others' 16 capped one provider at 16 / latency calls per second).
  resilience: { prefix: 'NOTIFUSE', timeoutMs: 15_000, ratePerSecond: 0, maxInFlight: 64 },
  createAdapter: createNotifuseAdapter,
  sandbox: SANDBOX,
  env: {
    NOTIFUSE_URL: optionalVar,
    NOTIFUSE_API_KEY: optionalVar,
    NOTIFUSE_WORKSPACE_ID: optionalVar,
    NOTIFUSE_BATCH_SIZE: intVar(500, 1, 500),
    NOTIFUSE_CUSTOM_FIELD_MAP: optionalVar,
  },
  read(e, tools) {
    const options: NotifuseOptions = {
      batchSize: e.NOTIFUSE_BATCH_SIZE,
      customFieldMap: tools.jsonMap(
        'NOTIFUSE_CUSTOM_FIELD_MAP',
        e.NOTIFUSE_CUSTOM_FIELD_MAP,
        z.string().regex(NOTIFUSE_COLUMN),
        'values must be Notifuse columns custom_{string|number|datetime|json}_{1..5}',
      ),
      readConcurrency: 8,
    };
    return tools.configured(options, (set) => ({
      url: set.NOTIFUSE_URL,
      apiKey: new Secret(set.NOTIFUSE_API_KEY),
      workspaceId: set.NOTIFUSE_WORKSPACE_ID,
    }));
  },
  credentialVars: {
    group: 'Notifuse',
    required: ['NOTIFUSE_URL', 'NOTIFUSE_API_KEY', 'NOTIFUSE_WORKSPACE_ID'],
  },
});
