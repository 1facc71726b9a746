import type { ContactView } from '../contacts/service.js';
import type { Address, Consent, ProviderId, ProviderRecord } from '../model/contact.js';
import type { ProviderErrorInfo } from '../model/errors.js';
import { builder } from './builder.js';
import { ConsentStatusEnum, EmailFormatEnum, OptInTypeEnum, ProviderEnum } from './enums.js';
import { ProviderErrorRef } from './errors.js';
import { providerNotes } from './notes.js';

export const AddressRef = builder.objectRef<Address>('Address').implement({
  description: 'A postal address.',
  fields: (t) => ({
    line1: t.string({
      nullable: true,
      description: 'First address line.',
      resolve: (a) => a.line1 ?? null,
    }),
    line2: t.string({
      nullable: true,
      description: 'Second address line.',
      resolve: (a) => a.line2 ?? null,
    }),
    city: t.string({
      nullable: true,
      description: 'City or town.',
      resolve: (a) => a.city ?? null,
    }),
    state: t.string({
      nullable: true,
      description: 'State, province or region.',
      resolve: (a) => a.state ?? null,
    }),
    postalCode: t.string({
      nullable: true,
      description: 'Postal or ZIP code.',
      resolve: (a) => a.postalCode ?? null,
    }),
    county: t.string({ nullable: true, description: 'County.', resolve: (a) => a.county ?? null }),
    country: t.string({
      nullable: true,
      description: 'ISO 3166-1 alpha-2 country code (upper case), e.g. US.',
      resolve: (a) => a.country ?? null,
    }),
  }),
});

export const ConsentRef = builder.objectRef<Consent>('Consent').implement({
  description: 'Consent for one channel (email or SMS).',
  fields: (t) => ({
    status: t.field({
      type: ConsentStatusEnum,
      nullable: true,
      description: 'Subscription state.',
      resolve: (c) => c.status ?? null,
    }),
    optInType: t.field({
      type: OptInTypeEnum,
      nullable: true,
      description: 'How consent was obtained.',
      resolve: (c) => c.optInType ?? null,
    }),
    verified: t.boolean({
      nullable: true,
      description: 'Whether the address or number was verified.',
      resolve: (c) => c.verified ?? null,
    }),
    authorized: t.boolean({
      nullable: true,
      description: 'Whether the contact authorised messages on this channel.',
      resolve: (c) => c.authorized ?? null,
    }),
  }),
});

export const ProviderRecordRef = builder.objectRef<ProviderRecord>('ProviderRecord').implement({
  description: 'Where the contact lives at one provider.',
  fields: (t) => ({
    provider: t.expose('provider', {
      type: ProviderEnum,
      description: 'The provider.',
    }),
    remoteId: t.exposeString('remoteId', {
      description: `The provider's id of the contact${providerNotes('ProviderRecord.remoteId')}.`,
    }),
    syncedAt: t.expose('syncedAt', {
      type: 'DateTime',
      description: 'When the gateway last wrote or read it there.',
    }),
    stale: t.boolean({
      description:
        'True when a read found nothing at the provider for this link (404 for its remote id): the provider no longer holds the contact, and the view does not come from it. The next successful write there clears it.',
      resolve: (r) => r.staleAt !== undefined,
    }),
    staleSince: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the link was found stale; null while it is not.',
      resolve: (r) => r.staleAt ?? null,
    }),
  }),
});

export const ProviderReadErrorRef = builder
  .objectRef<{ provider: ProviderId; error: ProviderErrorInfo }>('ProviderReadError')
  .implement({
    description: 'A provider that could not be read while building this contact.',
    fields: (t) => ({
      provider: t.expose('provider', {
        type: ProviderEnum,
        description: 'The provider.',
      }),
      error: t.expose('error', {
        type: ProviderErrorRef,
        description: 'Why the read failed.',
      }),
    }),
  });

const text = (description: string, key: keyof ContactView) => ({
  nullable: true as const,
  description,
  resolve: (c: ContactView) => (c[key] as string | null | undefined) ?? null,
});

export const ContactRef = builder.objectRef<ContactView>('Contact').implement({
  description:
    "The unified view of a contact, merged from the providers' answers (provider data wins; the gateway's last known values fill fields no answering provider stores). Every field but `id` needs scope `contacts:read`, wherever the contact appears (a write-only key sees the id in write payloads, nothing else).",
  authScopes: { 'contacts:read': true },
  fields: (t) => ({
    id: t.exposeID('id', {
      description: "The gateway's own stable id (UUID), never a provider's. Needs no scope.",
      skipTypeScopes: true,
    }),
    externalId: t.string(
      text('Your system’s id for the contact; the first identity key.', 'externalId'),
    ),
    email: t.string(
      text('Email address (trimmed, lower-cased); the second identity key.', 'email'),
    ),
    phone: t.string(
      text('Mobile phone, E.164 (e.g. +14155550123); the third identity key.', 'phone'),
    ),
    homePhone: t.string(text('Home phone, E.164.', 'homePhone')),
    workPhone: t.string(text('Work phone, E.164.', 'workPhone')),
    firstName: t.string(text('Given name.', 'firstName')),
    lastName: t.string(text('Family name.', 'lastName')),
    namePrefix: t.string(text('Title or prefix, e.g. Dr.', 'namePrefix')),
    nameSuffix: t.string(text('Suffix, e.g. Jr.', 'nameSuffix')),
    jobTitle: t.string(text('Job title.', 'jobTitle')),
    address: t.field({
      type: AddressRef,
      nullable: true,
      description: 'Postal address.',
      resolve: (c) => c.address ?? null,
    }),
    birthdate: t.field({
      type: 'Date',
      nullable: true,
      description: 'Date of birth (YYYY-MM-DD).',
      resolve: (c) => c.birthdate ?? null,
    }),
    timezone: t.string(text('IANA time zone, e.g. America/New_York.', 'timezone')),
    language: t.string(text('BCP 47 language tag, e.g. en-US.', 'language')),
    emailFormat: t.field({
      type: EmailFormatEnum,
      nullable: true,
      description: 'Preferred email format.',
      resolve: (c) => c.emailFormat ?? null,
    }),
    emailConsent: t.field({
      type: ConsentRef,
      nullable: true,
      description: 'Email consent.',
      resolve: (c) => c.emailConsent ?? null,
    }),
    smsConsent: t.field({
      type: ConsentRef,
      nullable: true,
      description: 'SMS consent.',
      resolve: (c) => c.smsConsent ?? null,
    }),
    customFields: t.field({
      type: 'JSONObject',
      nullable: true,
      description: 'Custom fields by key (provider columns are mapped to these keys).',
      resolve: (c) => c.customFields ?? null,
    }),
    createdAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'When the contact was created (earliest provider answer, else when the gateway first saw it).',
      resolve: (c) => c.createdAt ?? null,
    }),
    updatedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'When the contact last changed (latest provider answer, else the gateway’s last write).',
      resolve: (c) => c.updatedAt ?? null,
    }),
    records: t.expose('records', {
      type: [ProviderRecordRef],
      description: 'The providers this contact lives in, with their ids.',
    }),
    readErrors: t.expose('readErrors', {
      type: [ProviderReadErrorRef],
      description: 'Providers that could not be read for this view (empty after writes).',
    }),
  }),
});
