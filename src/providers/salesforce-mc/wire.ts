import { z } from 'zod';
import { looseList } from '../wire.js';

/**
 * Salesforce Marketing Cloud wire shapes (Contacts REST and auth). Requests are typed
 * strictly in the shape of the documented examples (`attributeSets[].items[].values[]`); responses
 * are parsed leniently because the docs, the SDKs and live-tested clients disagree on key names
 * (`rowsAffetcted` / `rowsAffected`, `contactId` / `contactID`) and nothing documents the
 * `resultMessages` items.
 */

export type AttributeValue = string | number | boolean;

export interface AttributeSet {
  name: string;
  /** `value: null` clears the attribute (see `toWireContact`). */
  items: Array<{ values: Array<{ name: string; value: AttributeValue | null }> }>;
}

/** `POST|PATCH /contacts/v1/contacts`: one contact, one instance of each attribute set. */
export interface ContactWriteBody {
  contactKey: string;
  attributeSets: AttributeSet[];
}

/** `POST /contacts/v1/addresses/email/search`. */
export interface EmailSearchBody {
  channelAddressList: string[];
  maximumCount: number;
}

/** `POST {auth}/v2/token` (enhanced packages; `scope` omitted = every scope of the package). */
export interface TokenRequestBody {
  grant_type: 'client_credentials';
  client_id: string;
  client_secret: string;
  account_id?: number | string;
}

export const TokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().nullish(),
  expires_in: z.coerce.number().positive(),
  rest_instance_url: z.string().min(1),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** SF-7: the auth host answers errors OAuth-style. */
export const OAuthErrorSchema = z.looseObject({
  error: z.string(),
  error_description: z.string().nullish(),
});

const ResultMessageSchema = z.looseObject({
  resultType: z.unknown().optional(),
  resultCode: z.unknown().optional(),
  resultClass: z.unknown().optional(),
  message: z.unknown().optional(),
});
export type ResultMessage = z.infer<typeof ResultMessageSchema>;

/** The service envelope every Contacts answer carries (SF-1..SF-6). */
const EnvelopeShape = {
  hasErrors: z.boolean().nullish(),
  resultMessages: z.array(ResultMessageSchema).nullish().catch(null),
  requestServiceMessageID: z.string().nullish(),
  serviceMessageID: z.string().nullish(),
};

const IdSchema = z.union([z.string(), z.number()]).nullish();

/** Create/update answer (SF-1, SF-2); every key optional so that a quirk cannot fail a write. */
export const ContactWriteResponseSchema = z.looseObject({
  ...EnvelopeShape,
  operationStatus: z.string().nullish(),
  rowsAffected: z.number().nullish(),
  rowsAffetcted: z.number().nullish(),
  contactKey: IdSchema,
  contactId: IdSchema,
  contactID: IdSchema,
  isNewContactKey: z.boolean().nullish(),
});
export type ContactWriteResponse = z.infer<typeof ContactWriteResponseSchema>;

/** SF-3 answer. `createDate` format is undocumented: kept as given when it is a string. */
export const EmailSearchResponseSchema = z.looseObject({
  ...EnvelopeShape,
  channelAddressResponseEntities: looseList({
    channelAddress: z.string().nullish(),
    contactKeyDetails: looseList({ contactKey: IdSchema, createDate: z.unknown().optional() }),
  }),
});
export type EmailSearchResponse = z.infer<typeof EmailSearchResponseSchema>;

/**
 * `POST /contacts/v1/addresses/search/ContactKey` answer (SF-BAL, from Salesforce's Postman
 * collection), read leniently: the addresses of the contact (`addressTypeID` 1 = email, 4 =
 * mobile) with their `valueSets[].values[{definitionKey|name, value}]`.
 */
export const ContactKeySearchResponseSchema = z.looseObject({
  addresses: looseList({
    contactKey: z.union([z.string(), z.number()]).nullish(),
    addressTypeID: z.union([z.number(), z.string()]).nullish(),
    valueSets: looseList({
      values: looseList({
        definitionKey: z.string().nullish(),
        name: z.string().nullish(),
        value: z.unknown(),
      }),
    }),
  }),
  hasErrors: z.boolean().nullish(),
});
export type ContactKeySearchResponse = z.infer<typeof ContactKeySearchResponseSchema>;

/** SF-9/SF-10 `{message, errorcode, documentation}`, 400 aggregates with `additionalErrors`. */
export const RestErrorSchema = z.looseObject({
  message: z.string().nullish(),
  errorcode: z.coerce.number().nullish().catch(null),
  documentation: z.string().nullish(),
  retryAfter: z.unknown().optional(),
  additionalErrors: looseList({
    message: z.string().nullish(),
    errorcode: z.coerce.number().nullish().catch(null),
  }).catch(null),
  ...EnvelopeShape,
});

/** The text of one result message, whatever keys it came with. */
export function resultMessageText(m: ResultMessage): string {
  const text = typeof m.message === 'string' ? m.message : '';
  const code =
    typeof m.resultCode === 'string' || typeof m.resultCode === 'number'
      ? String(m.resultCode)
      : '';
  return code && text ? `${code}: ${text}` : text || code || JSON.stringify(m).slice(0, 200);
}

/** The first result message's code, when it has one. */
export function resultMessageCode(m: ResultMessage | undefined): string | null {
  const code = m?.resultCode;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : null;
}
