import type {
  CONSENT_STATUSES,
  EMAIL_FORMATS,
  OPT_IN_TYPES,
  ProviderId,
} from '../model/contact.js';
import { PROVIDERS } from '../providers/registry.js';
import { builder } from './builder.js';

export const ProviderEnum = builder.enumType('Provider', {
  description: 'A marketing platform the gateway can write contacts to.',
  values: Object.fromEntries(
    PROVIDERS.map((p) => [p.id, { description: p.description }]),
  ) as Record<ProviderId, { description: string }>,
});

export const OutcomeStatusEnum = builder.enumType('OutcomeStatus', {
  description: 'What happened to one contact at one provider.',
  values: {
    CREATED: { description: 'The provider created the contact.' },
    UPDATED: { description: 'The provider updated a contact it already had.' },
    FAILED: {
      description:
        'The provider did not take the write; `error` says why and whether a retry can help.',
    },
    SKIPPED: {
      description:
        'The gateway did not call the provider (not enabled, not linked, or a required field is missing); `error` says why.',
    },
    DRY_RUN: {
      description: 'Dry run: validated and mapped, not sent; `request` is the exact wire request.',
    },
    QUEUED: {
      description: 'Accepted for later delivery (e.g. an import still running, or kept for retry).',
    },
  },
});

export const ConsentStatusEnum = builder.enumType('ConsentStatus', {
  description: 'Subscription state of a channel (email or SMS).',
  values: {
    SUBSCRIBED: { description: 'Opted in; messages may be sent.' },
    UNSUBSCRIBED: { description: 'Opted out.' },
    PENDING: { description: 'Awaiting confirmation (double opt-in).' },
    BOUNCED: { description: 'Deliveries bounce (read only; set by the provider).' },
    COMPLAINED: { description: 'The contact reported spam (read only).' },
    SUPPRESSED: { description: 'Suppressed by the provider (read only).' },
    UNKNOWN: { description: 'The provider did not say.' },
  } satisfies Record<(typeof CONSENT_STATUSES)[number], { description: string }>,
});

export const OptInTypeEnum = builder.enumType('OptInType', {
  description: 'How consent was obtained.',
  values: {
    SINGLE: { description: 'Single opt-in.' },
    DOUBLE: { description: 'Double opt-in (confirmed by the contact).' },
    VERIFIED_DOUBLE: { description: 'Double opt-in with a verified confirmation.' },
    UNKNOWN: { description: 'Not known.' },
  } satisfies Record<(typeof OPT_IN_TYPES)[number], { description: string }>,
});

export const EmailFormatEnum = builder.enumType('EmailFormat', {
  description: 'The email format the contact prefers.',
  values: {
    HTML: { description: 'HTML email.' },
    PLAIN_TEXT: { description: 'Plain-text email.' },
  } satisfies Record<(typeof EMAIL_FORMATS)[number], { description: string }>,
});

export const ProviderModeEnum = builder.enumType('ProviderMode', {
  description: 'How the gateway reaches a provider.',
  values: {
    LIVE: { description: 'Configured with credentials; calls the real provider.' },
    SANDBOX: { description: 'Calls the in-process loopback sandbox (no credentials were set).' },
    DISABLED: { description: 'No credentials configured; writes that target it are SKIPPED.' },
    UNAVAILABLE: {
      description: 'The gateway has no adapter for it yet; writes that target it are SKIPPED.',
    },
  },
});
