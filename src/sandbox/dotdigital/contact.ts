/**
 * A Dotdigital contact in the two shapes the API uses: the request body (lower-camel enums,
 * DD-OAS `updateContactRequest`) and the response (`contact`, PascalCase email enums).
 */
import type { ConsentRecordRequest } from '../../providers/dotdigital/wire.js';
import { countryCodeOf } from './identifiers.js';

// --- Requests (already validated against DD-OAS) ---------------------------------------------

export type RequestEmailType = 'html' | 'plainText';
export type RequestOptInType = 'unknown' | 'single' | 'double' | 'verifiedDouble';
/** DD-OAS `channelProperties_channelProperties_email.status`. */
export type RequestEmailStatus = 'subscribed' | 'unsubscribed' | 'suppressed';
/** DD-OAS `channelStatusUpdate` (sms and whatsApp). */
export type ChannelStatus = 'noSubscription' | 'subscribed' | 'unsubscribed' | 'suppressed';

/** DD-OAS `consentRecord` of a request: the shape the adapter sends (`src/providers/dotdigital/wire.ts`). */
export type ConsentRecordInput = ConsentRecordRequest;

/** What one write (PATCH body or one import contact) asks for, identifiers already checked. */
export interface ContactWrite {
  identifiers?: { email?: string; mobileNumber?: string };
  dataFields?: Record<string, unknown>;
  channelProperties?: {
    email?: {
      emailType?: RequestEmailType;
      optInType?: RequestOptInType;
      status?: RequestEmailStatus;
    };
    sms?: { status?: ChannelStatus };
    whatsApp?: { status?: ChannelStatus };
  };
  lists?: number[];
  preferences?: Array<{ id: number; isOptedIn: boolean }>;
  consentRecords?: ConsentRecordInput[];
}

/**
 * The import body spells merge options camelCase (DD-OAS `v3_import_body.mergeOption`), the PATCH
 * query kebab-case (`merge-option`); the sandbox works with the camelCase ones.
 */
export type MergeOption = 'overwrite' | 'overwriteIfNotEmpty' | 'overwriteIfEmpty';

// --- Responses --------------------------------------------------------------------------------

export type EmailType = 'Html' | 'PlainText';
export type OptInType = 'Unknown' | 'Single' | 'Double' | 'VerifiedDouble';
/** The subset of DD-OAS `emailChannelStatus` the sandbox can reach. */
export type EmailStatus = RequestEmailStatus | 'pendingOptIn';
/** DD-OAS `status` (top level); `binned` only shows in store inspection, never over HTTP. */
export type ContactStatus = EmailStatus | 'noSubscription' | 'binned';

export interface ConsentRecord extends ConsentRecordInput {
  dateTimeCreated: string;
}

export interface ListMembership {
  id: number;
  name: string;
  status: 'subscribed';
}

export interface Preference {
  id: number;
  /** DD-OAS `preferenceFull` lists `name` as required (without declaring it); it is answered. */
  name: string;
  isOptedIn: boolean;
}

/** DD-OAS `contact`. */
export interface DotdigitalContact {
  contactId: number;
  status: ContactStatus;
  created: string;
  updated: string;
  identifiers: { email?: string; mobileNumber?: string };
  dataFields: Record<string, unknown>;
  channelProperties: {
    email?: { emailType: EmailType; optInType: OptInType; status: EmailStatus };
    sms?: { countryCode: string; status: ChannelStatus };
    whatsApp?: { status: ChannelStatus };
  };
  lists: ListMembership[];
  /** Omitted when empty: DD-OAS gives the response array `minItems: 1`. */
  preferences?: Preference[];
  consentRecords: ConsentRecord[];
}

/** The sandbox's own record of a contact. */
export interface StoredContact {
  readonly contactId: number;
  email: string | undefined;
  mobileNumber: string | undefined;
  /** Insertion-ordered; a cleared field is removed. */
  readonly dataFields: Map<string, unknown>;
  emailChannel: { emailType: EmailType; optInType: OptInType; status: EmailStatus } | undefined;
  smsStatus: ChannelStatus | undefined;
  whatsAppStatus: ChannelStatus | undefined;
  readonly lists: Map<number, ListMembership>;
  readonly preferences: Map<number, boolean>;
  readonly consentRecords: ConsentRecord[];
  readonly created: string;
  updated: string;
  /** In the recycle bin (DELETE); a PATCH addressing it undeletes it (DD-1). */
  binned: boolean;
}

export const EMAIL_TYPE: Readonly<Record<RequestEmailType, EmailType>> = {
  html: 'Html',
  plainText: 'PlainText',
};

export const OPT_IN_TYPE: Readonly<Record<RequestOptInType, OptInType>> = {
  unknown: 'Unknown',
  single: 'Single',
  double: 'Double',
  verifiedDouble: 'VerifiedDouble',
};

export function toWireContact(c: StoredContact): DotdigitalContact {
  const identifiers: DotdigitalContact['identifiers'] = {};
  if (c.email !== undefined) {
    identifiers.email = c.email;
  }
  if (c.mobileNumber !== undefined) {
    identifiers.mobileNumber = c.mobileNumber;
  }
  const channelProperties: DotdigitalContact['channelProperties'] = {};
  if (c.emailChannel !== undefined) {
    channelProperties.email = { ...c.emailChannel };
  }
  if (c.mobileNumber !== undefined && c.smsStatus !== undefined) {
    channelProperties.sms = { countryCode: countryCodeOf(c.mobileNumber), status: c.smsStatus };
  }
  if (c.whatsAppStatus !== undefined) {
    channelProperties.whatsApp = { status: c.whatsAppStatus };
  }
  const contact: DotdigitalContact = {
    contactId: c.contactId,
    // Brief decision: the top-level status mirrors the email channel; no email, no subscription.
    status: c.binned ? 'binned' : (c.emailChannel?.status ?? 'noSubscription'),
    created: c.created,
    updated: c.updated,
    identifiers,
    dataFields: Object.fromEntries(c.dataFields),
    channelProperties,
    lists: [...c.lists.values()].map((l) => ({ ...l })),
    consentRecords: c.consentRecords.map((r) => ({ ...r })),
  };
  if (c.preferences.size > 0) {
    contact.preferences = [...c.preferences].map(([id, isOptedIn]) => ({
      id,
      name: `Preference ${id}`,
      isOptedIn,
    }));
  }
  return contact;
}
