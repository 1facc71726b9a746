import { z } from 'zod';

/**
 * Digital Onboarding partner API v2 contact wire shapes.
 * Requests are typed strictly: only the writable columns, only what a patch carries. Responses are
 * parsed leniently: the docs show one Contact schema for request and response, never the bulk
 * response, and mark server fields required that a client cannot know.
 */

/**
 * The Contact columns of DO-1/DO-2, in the order of their field table (the sandbox imitates the
 * same resource from these lists). Optional text columns:
 */
export const DO_STRING_FIELDS = [
  'unique_id',
  'name_first',
  'name_last',
  'name_title',
  'name_suffix',
  'email',
  'phone_home',
  'phone_mobile',
  'phone_work',
  'address',
  'address2',
  'city',
  'state',
  'post_code',
  'county',
  'country',
  'birthdate',
  'timezone',
] as const;
export type DoStringField = (typeof DO_STRING_FIELDS)[number];

/** The consent flags (booleans). */
export const DO_CONSENT_FIELDS = [
  'sms_verified',
  'sms_opted_in',
  'sms_authorized',
  'sms_unsubscribed',
  'email_verified',
  'email_opted_in',
  'email_authorized',
  'email_unsubscribed',
] as const;
export type DoConsentField = (typeof DO_CONSENT_FIELDS)[number];

/** Columns the gateway may send. Everything else on a Contact is server-managed. */
export const DO_WRITABLE_FIELDS = [
  ...DO_STRING_FIELDS,
  ...DO_CONSENT_FIELDS,
  'meta_public',
] as const;
export type DoWritableField = (typeof DO_WRITABLE_FIELDS)[number];

/** Server-managed columns: read, never sent. */
export const DO_READ_ONLY_FIELDS = [
  'id',
  'type',
  'team_id',
  'inserted_at',
  'updated_at',
  'last_seen_at',
  'active_journey_ids',
  'completed_objective_keys',
] as const;

/** One contact as the gateway sends it (POST object, one of `items`, or a PATCH body). */
export type DoContactBody = { [K in DoStringField]?: string | null } & {
  [K in DoConsentField]?: boolean;
} & {
  /** A JSON merge patch: a key set to null removes that key; null empties the object. */
  meta_public?: Record<string, unknown> | null;
};

/** `POST /v2/partner/contacts` bulk branch as the gateway sends it. */
export interface DoBulkBody {
  items: DoContactBody[];
}

const text = z.string().nullish();
const flag = z.boolean().nullish();
const fieldsOf = <K extends string, T>(keys: readonly K[], type: T) =>
  Object.fromEntries(keys.map((k) => [k, type])) as Record<K, T>;

/** A Contact as Digital Onboarding returns it; only `id` is needed to make sense of an answer. */
export const ContactSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().nullish(),
  team_id: z.string().nullish(),
  ...fieldsOf(DO_STRING_FIELDS, text),
  ...fieldsOf(DO_CONSENT_FIELDS, flag),
  meta_public: z.record(z.string(), z.unknown()).nullish(),
  inserted_at: text,
  updated_at: text,
  last_seen_at: text,
});
export type DoWireContact = z.infer<typeof ContactSchema>;

/** One member of the `{errors: [...]}` envelope. Only these four members are documented. */
export const ErrorObjectSchema = z.looseObject({
  code: z.string().nullish(),
  title: z.string().nullish(),
  detail: z.string().nullish(),
  meta: z.record(z.string(), z.unknown()).nullish(),
});
export type DoErrorObject = z.infer<typeof ErrorObjectSchema>;

/** v2 `{errors: [{code, title, detail, meta}]}`; v1 `{error: "invalid_token"}` is read too. */
export const ErrorBodySchema = z.looseObject({
  errors: z.array(ErrorObjectSchema).nullish(),
  error: z.union([z.string(), ErrorObjectSchema]).nullish(),
  message: z.string().nullish(),
});

/**
 * One entry of a bulk answer, which the docs do not show: a bare Contact, or a per-item result
 * carrying a `contact` (or `data`) and/or `errors`, perhaps with the item's `index`, `status`
 * (201/200 or created/updated) and the key it was matched by. Every member is read by hand
 * (`bulk.ts`), so an odd type in one member never discards the entry.
 */
export const BulkEntrySchema = z.record(z.string(), z.unknown());
export type DoBulkEntry = z.infer<typeof BulkEntrySchema>;
