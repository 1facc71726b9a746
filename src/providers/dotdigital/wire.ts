import { z } from 'zod';
import { looseList } from '../wire.js';

/**
 * Dotdigital API v3 contacts wire shapes. Requests are typed strictly (what we send validates
 * against `dotdigital-contacts-v3.openapi.json`, see test/contract); responses are parsed leniently
 * because the reference pages, the OpenAPI examples and the SDK disagree on casing and keys.
 */

/** The identifiers the adapter addresses a contact by (custom identifiers are not used). */
export type DotdigitalIdentifier = 'contactId' | 'email' | 'mobileNumber';

export type DataFieldValue = string | number | boolean | null;

export interface EmailChannelRequest {
  emailType?: 'html' | 'plainText';
  optInType?: 'unknown' | 'single' | 'double' | 'verifiedDouble';
  status?: 'subscribed' | 'unsubscribed' | 'suppressed';
}
export interface SmsChannelRequest {
  status?: 'noSubscription' | 'subscribed' | 'unsubscribed' | 'suppressed';
}
export interface ChannelPropertiesRequest {
  email?: EmailChannelRequest;
  sms?: SmsChannelRequest;
}

export interface ConsentRecordRequest {
  text: string;
  dateTimeConsented: string;
  url: string;
  ipAddress: string;
  userAgent: string;
}

/** `updateContactRequest`: every key optional, only what the patch carries is sent. */
export interface UpdateContactBody {
  identifiers?: { email?: string; mobileNumber?: string };
  dataFields?: Record<string, DataFieldValue>;
  channelProperties?: ChannelPropertiesRequest;
  lists?: number[];
  preferences?: Array<{ id: number; isOptedIn: boolean }>;
  consentRecords?: ConsentRecordRequest[];
}

/** `contactRequest`: one contact of a bulk import. `contactId` can match, never set. */
export interface ImportContact extends Omit<UpdateContactBody, 'identifiers'> {
  matchIdentifier: DotdigitalIdentifier;
  identifiers: { contactId?: number; email?: string; mobileNumber?: string };
}

export type ImportMergeOption = 'overwrite' | 'overwriteIfNotEmpty' | 'overwriteIfEmpty';
export type QueryMergeOption = 'overwrite' | 'overwrite-if-not-empty' | 'overwrite-if-empty';

/** `v3_import_body`. */
export interface ImportBody {
  mergeOption?: ImportMergeOption;
  contacts: ImportContact[];
}

/** v2 `POST /v2/data-fields` body (Contact data fields API 2.0.1). */
export interface CreateDataFieldBody {
  name: string;
  type: 'String' | 'Numeric' | 'Date' | 'Boolean';
  visibility: 'Private' | 'Public';
}

/** One item of v2 `GET /v2/data-fields`; only the name matters here. */
export const DataFieldListSchema = z.array(
  z.looseObject({ name: z.string(), type: z.string().nullish() }),
);

/** A contactId as Dotdigital sends it (an integer; a numeric string is accepted too). */
const ContactIdSchema = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d+$/)
    .transform((s) => Number(s)),
]);

const IdentifiersSchema = z.record(z.string(), z.unknown());

/** `contact`, parsed leniently: only `contactId` is needed to make sense of an answer. */
export const ContactSchema = z.looseObject({
  contactId: ContactIdSchema,
  status: z.string().nullish(),
  created: z.string().nullish(),
  updated: z.string().nullish(),
  identifiers: IdentifiersSchema.nullish(),
  dataFields: z.record(z.string(), z.unknown()).nullish(),
  channelProperties: z
    .looseObject({
      email: z
        .looseObject({
          emailType: z.string().nullish(),
          optInType: z.string().nullish(),
          status: z.string().nullish(),
        })
        .nullish(),
      sms: z.looseObject({ status: z.string().nullish() }).nullish(),
    })
    .nullish(),
});
export type WireContact = z.infer<typeof ContactSchema>;

export const ImportAcceptedSchema = z.looseObject({ importId: z.string().min(1) });

const ContactReferenceSchema = z.looseObject({
  contactId: ContactIdSchema,
  identifiers: IdentifiersSchema.nullish(),
});

const ImportFailureSchema = z.looseObject({
  contactId: ContactIdSchema.nullish(),
  matchIdentifier: z.string().nullish(),
  identifiers: IdentifiersSchema.nullish(),
  failures: looseList({
    failureCode: z.string().nullish(),
    description: z.string().nullish(),
  }),
});

export const ImportStatusSchema = z.looseObject({
  importId: z.string().nullish(),
  status: z.string(),
  summary: z.record(z.string(), z.unknown()).nullish(),
  created: z.array(ContactReferenceSchema).nullish(),
  updated: z.array(ContactReferenceSchema).nullish(),
  failures: z.array(ImportFailureSchema).nullish(),
});
export type ImportStatus = z.infer<typeof ImportStatusSchema>;
export type ImportContactReference = z.infer<typeof ContactReferenceSchema>;
export type ImportFailure = z.infer<typeof ImportFailureSchema>;

/**
 * `errorResponse` `{errorCode, description, details[]}`. The error-handling page's own example puts
 * the per-item text under `error` instead of `description`; both are read.
 */
export const ErrorBodySchema = z.looseObject({
  errorCode: z.string().nullish(),
  description: z.string().nullish(),
  message: z.string().nullish(),
  details: looseList({
    item: z.unknown().optional(),
    description: z.string().nullish(),
    error: z.string().nullish(),
  }),
});

/** Where an import stands: `Finished`, a terminal failure, or still running. */
export function readImportState(status: string): 'FINISHED' | 'FAILED' | 'RUNNING' {
  switch (status.toLowerCase()) {
    case 'finished':
      return 'FINISHED';
    case 'failed':
    case 'rejectedbywatchdog':
    case 'exceedsallowedcontactlimit':
      return 'FAILED';
    default:
      // NotFinished, NotStarted and anything new: keep polling until the wait ends.
      return 'RUNNING';
  }
}
