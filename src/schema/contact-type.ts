import type { ContactView } from '../contacts/service.js';
import type { Address, Consent, ProviderId, ProviderRecord } from '../model/contact.js';
import type { ProviderErrorInfo } from '../model/errors.js';
import { builder } from './builder.js';
import { ConsentStatusEnum, EmailFormatEnum, OptInTypeEnum } from './enums.js';
import { ProviderErrorRef } from './errors.js';
import { at, listOf, of, orNull, provider } from './fields.js';
import { providerNotes } from './notes.js';

export const AddressRef = builder.objectRef<Address>('Address').implement({
  description: 'A postal address.',
  fields: (t) => ({
    line1: t.string(orNull('line1', 'First address line.')),
    line2: t.string(orNull('line2', 'Second address line.')),
    city: t.string(orNull('city', 'City or town.')),
    state: t.string(orNull('state', 'State, province or region.')),
    postalCode: t.string(orNull('postalCode', 'Postal or ZIP code.')),
    county: t.string(orNull('county', 'County.')),
    country: t.string(orNull('country', 'ISO 3166-1 alpha-2 country code (upper case), e.g. US.')),
  }),
});

export const ConsentRef = builder.objectRef<Consent>('Consent').implement({
  description: 'Consent for one channel (email or SMS).',
  fields: (t) => ({
    status: t.field({ type: ConsentStatusEnum, ...orNull('status', 'Subscription state.') }),
    optInType: t.field({
      type: OptInTypeEnum,
      ...orNull('optInType', 'How consent was obtained.'),
    }),
    verified: t.boolean(orNull('verified', 'Whether the address or number was verified.')),
    authorized: t.boolean(
      orNull('authorized', 'Whether the contact authorised messages on this channel.'),
    ),
  }),
});

export const ProviderRecordRef = builder.objectRef<ProviderRecord>('ProviderRecord').implement({
  description: 'Where the contact lives at one provider.',
  fields: (t) => ({
    provider: t.expose('provider', provider()),
    remoteId: t.exposeString('remoteId', {
      description: `The provider's id of the contact${providerNotes('ProviderRecord.remoteId')}.`,
    }),
    syncedAt: t.expose('syncedAt', at('When the gateway last wrote or read it there.')),
    stale: t.boolean({
      description:
        'True when a read found nothing at the provider for this link (404 for its remote id): the provider no longer holds the contact, and the view does not come from it. The next successful write there clears it.',
      resolve: (r) => r.staleAt !== undefined,
    }),
    staleSince: t.field({
      type: 'DateTime',
      ...orNull('staleAt', 'When the link was found stale; null while it is not.'),
    }),
  }),
});

export const ProviderReadErrorRef = builder
  .objectRef<{ provider: ProviderId; error: ProviderErrorInfo }>('ProviderReadError')
  .implement({
    description: 'A provider that could not be read while building this contact.',
    fields: (t) => ({
      provider: t.expose('provider', provider()),
      error: t.expose('error', of(ProviderErrorRef, 'Why the read failed.')),
    }),
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
      orNull('externalId', 'Your system’s id for the contact; the first identity key.'),
    ),
    email: t.string(
      orNull('email', 'Email address (trimmed, lower-cased); the second identity key.'),
    ),
    phone: t.string(
      orNull('phone', 'Mobile phone, E.164 (e.g. +14155550123); the third identity key.'),
    ),
    homePhone: t.string(orNull('homePhone', 'Home phone, E.164.')),
    workPhone: t.string(orNull('workPhone', 'Work phone, E.164.')),
    firstName: t.string(orNull('firstName', 'Given name.')),
    lastName: t.string(orNull('lastName', 'Family name.')),
    namePrefix: t.string(orNull('namePrefix', 'Title or prefix, e.g. Dr.')),
    nameSuffix: t.string(orNull('nameSuffix', 'Suffix, e.g. Jr.')),
    jobTitle: t.string(orNull('jobTitle', 'Job title.')),
    address: t.field({ type: AddressRef, ...orNull('address', 'Postal address.') }),
    birthdate: t.field({ type: 'Date', ...orNull('birthdate', 'Date of birth (YYYY-MM-DD).') }),
    timezone: t.string(orNull('timezone', 'IANA time zone, e.g. America/New_York.')),
    language: t.string(orNull('language', 'BCP 47 language tag, e.g. en-US.')),
    emailFormat: t.field({
      type: EmailFormatEnum,
      ...orNull('emailFormat', 'Preferred email format.'),
    }),
    emailConsent: t.field({ type: ConsentRef, ...orNull('emailConsent', 'Email consent.') }),
    smsConsent: t.field({ type: ConsentRef, ...orNull('smsConsent', 'SMS consent.') }),
    customFields: t.field({
      type: 'JSONObject',
      ...orNull(
        'customFields',
        'Custom fields by key (provider columns are mapped to these keys).',
      ),
    }),
    createdAt: t.field({
      type: 'DateTime',
      ...orNull(
        'createdAt',
        'When the contact was created (earliest provider answer, else when the gateway first saw it).',
      ),
    }),
    updatedAt: t.field({
      type: 'DateTime',
      ...orNull(
        'updatedAt',
        'When the contact last changed (latest provider answer, else the gateway’s last write).',
      ),
    }),
    records: t.expose(
      'records',
      listOf(ProviderRecordRef, 'The providers this contact lives in, with their ids.'),
    ),
    readErrors: t.expose(
      'readErrors',
      listOf(
        ProviderReadErrorRef,
        'Providers that could not be read for this view (empty after writes).',
      ),
    ),
  }),
});
