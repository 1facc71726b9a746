import { z } from 'zod';
import type { JsonObject } from '../../model/contact.js';
import type { ProviderOptionsPart } from '../options.js';
import { passThroughField, required } from '../options.js';

export const DOTDIGITAL_MERGE_OPTIONS = [
  'OVERWRITE',
  'OVERWRITE_IF_NOT_EMPTY',
  'OVERWRITE_IF_EMPTY',
] as const;
export type DotdigitalMergeOption = (typeof DOTDIGITAL_MERGE_OPTIONS)[number];

export interface DotdigitalConsentRecord {
  text: string;
  /** ISO 8601 UTC date-time */
  dateTimeConsented: string;
  url: string;
  ipAddress: string;
  userAgent: string;
}

export interface DotdigitalProviderOptions {
  /** How supplied fields merge with stored ones. Absent = Dotdigital's default (overwrite). */
  mergeOption?: DotdigitalMergeOption | null;
  /** Address book (list) ids to add the contact to. */
  lists?: number[] | null;
  preferences?: Array<{ id: number; isOptedIn: boolean }> | null;
  consentRecords?: DotdigitalConsentRecord[] | null;
  /** Merged into the wire body after mapping (see `src/providers/pass-through.ts`). */
  passThrough?: JsonObject | null;
}

declare module '../../model/contact.js' {
  interface ProviderOptions {
    dotdigital?: DotdigitalProviderOptions | null;
  }
}

const IP = z.union([z.ipv4(), z.ipv6()]);
const ISO_UTC = z.iso.datetime();
const ABSOLUTE_URL = z.url({ protocol: /^https?$/ });

/** `providerOptions.dotdigital`. */
export const dotdigitalProviderOptions: ProviderOptionsPart<DotdigitalProviderOptions> = {
  description: 'Dotdigital extras.',
  input(builder) {
    const DotdigitalMergeOptionEnum = builder.enumType('DotdigitalMergeOption', {
      description: 'How Dotdigital merges supplied fields with stored ones (its `merge-option`).',
      values: {
        OVERWRITE: { description: 'Write every supplied field (Dotdigital’s default).' },
        OVERWRITE_IF_NOT_EMPTY: { description: 'Skip supplied fields whose new value is empty.' },
        OVERWRITE_IF_EMPTY: {
          description: 'Only fill fields that are empty on the stored contact.',
        },
      } satisfies Record<DotdigitalMergeOption, { description: string }>,
    });
    const DotdigitalPreferenceInput = builder.inputType('DotdigitalPreferenceInput', {
      description: 'A Dotdigital preference to opt the contact in to or out of.',
      fields: (t) => ({
        id: t.int(required('Preference id.')),
        isOptedIn: t.boolean(required('Opted in (true) or out (false).')),
      }),
    });
    const DotdigitalConsentRecordInput = builder.inputType('DotdigitalConsentRecordInput', {
      description: 'Evidence of consent, stored by Dotdigital with the contact.',
      fields: (t) => ({
        text: t.string(required('The consent text the contact agreed to.')),
        dateTimeConsented: t.string(
          required(
            'When consent was given, ISO 8601 date-time in UTC (e.g. 2024-05-01T09:00:00Z).',
          ),
        ),
        url: t.string(required('The page where consent was given (absolute URL).')),
        ipAddress: t.string(required('The contact’s IPv4 or IPv6 address.')),
        userAgent: t.string(required('The contact’s browser user agent.')),
      }),
    });
    return builder.inputType('DotdigitalOptionsInput', {
      description: 'Dotdigital-only extras.',
      fields: (t) => ({
        mergeOption: t.field({ type: DotdigitalMergeOptionEnum, description: 'Merge option.' }),
        lists: t.intList({
          description: 'Address book (list) ids to add the contact to (1–100 ids).',
        }),
        preferences: t.field({
          type: [DotdigitalPreferenceInput],
          description: 'Preferences to set.',
        }),
        consentRecords: t.field({
          type: [DotdigitalConsentRecordInput],
          description: 'Consent records to store (1–5).',
        }),
        passThrough: t.field(PASS_THROUGH),
      }),
    });
  },
  validate(value, path, c) {
    const out: Omit<DotdigitalProviderOptions, 'passThrough'> = {};
    if (value['mergeOption'] !== undefined) {
      out.mergeOption = value['mergeOption'] as DotdigitalMergeOption | null;
    }
    const lists = value['lists'];
    if (Array.isArray(lists)) {
      if (lists.length < 1 || lists.length > 100) {
        c.add(`${path}.lists`, 'INVALID_VALUE', `${path}.lists must hold 1 to 100 list ids`);
      }
      lists.forEach((id, i) => {
        if (typeof id !== 'number' || id < 1) {
          c.add(
            `${path}.lists.${i}`,
            'INVALID_VALUE',
            `${path}.lists.${i} must be a positive list id`,
          );
        }
      });
      out.lists = [...new Set(lists as number[])];
    }
    const preferences = value['preferences'];
    if (Array.isArray(preferences)) {
      if (preferences.length < 1) {
        c.add(`${path}.preferences`, 'INVALID_VALUE', `${path}.preferences must not be empty`);
      }
      out.preferences = preferences as Array<{ id: number; isOptedIn: boolean }>;
    }
    const records = value['consentRecords'];
    if (Array.isArray(records)) {
      if (records.length < 1 || records.length > 5) {
        c.add(
          `${path}.consentRecords`,
          'INVALID_VALUE',
          `${path}.consentRecords must hold 1 to 5 records`,
        );
      }
      out.consentRecords = records.map((raw, i) => {
        const r = raw as Record<string, unknown>;
        const at = `${path}.consentRecords.${i}`;
        const record = {
          text: c.text(`${at}.text`, r['text']) ?? '',
          dateTimeConsented: String(r['dateTimeConsented'] ?? ''),
          url: String(r['url'] ?? ''),
          ipAddress: String(r['ipAddress'] ?? ''),
          userAgent: c.text(`${at}.userAgent`, r['userAgent']) ?? '',
        };
        if (!ISO_UTC.safeParse(record.dateTimeConsented).success) {
          c.add(
            `${at}.dateTimeConsented`,
            'INVALID_DATE',
            `${at}.dateTimeConsented must be an ISO 8601 UTC date-time such as 2024-05-01T09:00:00Z`,
          );
        }
        if (!ABSOLUTE_URL.safeParse(record.url).success) {
          c.add(`${at}.url`, 'INVALID_VALUE', `${at}.url must be an absolute http(s) URL`);
        }
        if (!IP.safeParse(record.ipAddress).success) {
          c.add(
            `${at}.ipAddress`,
            'INVALID_VALUE',
            `${at}.ipAddress must be an IPv4 or IPv6 address`,
          );
        }
        return record;
      });
    }
    return out;
  },
};

/** `passThrough`: where its keys are merged. */
const PASS_THROUGH = passThroughField(
  'Merged into the PATCH body (and the import contact) after mapping, e.g. `{channelProperties: {whatsApp: {status: subscribed}, email: {resubscribeOptions: {...}}}}`; validated against the Dotdigital OpenAPI `updateContactRequest`.',
);
