/**
 * The unified contact model shared by every provider adapter.
 *
 * Write inputs are *patches*: a key that is absent means "leave untouched at every provider", a key
 * whose value is `null` means "clear it where the provider can". Adapters never see GraphQL types.
 */

/**
 * Each provider's id, mapped to its name in messages (`'Acme Mail'` for `ACME_MAIL`). Each provider
 * declares its own entry in its folder (`src/providers/<name>/descriptor.ts`, by declaration
 * merging), so the model names none of them; the list at run time, in `Provider` enum order, is
 * the registry's (`src/providers/registry.ts`).
 */
// biome-ignore lint/suspicious/noEmptyInterface: each provider's descriptor.ts adds its entry.
export interface ProviderNames {}
export type ProviderId = Extract<keyof ProviderNames, string>;

export const CONSENT_STATUSES = [
  'SUBSCRIBED',
  'UNSUBSCRIBED',
  'PENDING',
  'BOUNCED',
  'COMPLAINED',
  'SUPPRESSED',
  'UNKNOWN',
] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

export const OPT_IN_TYPES = ['SINGLE', 'DOUBLE', 'VERIFIED_DOUBLE', 'UNKNOWN'] as const;
export type OptInType = (typeof OPT_IN_TYPES)[number];

export const EMAIL_FORMATS = ['HTML', 'PLAIN_TEXT'] as const;
export type EmailFormat = (typeof EMAIL_FORMATS)[number];

export type JsonObject = { [key: string]: unknown };

/** How emails compare: trimmed and lower-cased (identity keys, provider look-ups). */
export function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}

export interface Address {
  line1?: string | null;
  line2?: string | null;
  city?: string | null;
  state?: string | null;
  postalCode?: string | null;
  county?: string | null;
  /** ISO 3166-1 alpha-2, upper case */
  country?: string | null;
}

export interface Consent {
  status?: ConsentStatus | null;
  optInType?: OptInType | null;
  verified?: boolean | null;
  authorized?: boolean | null;
}

/** A contact patch: absent = untouched, null = clear. Also used for read results (absent = unknown). */
export interface ContactPatch {
  externalId?: string | null;
  email?: string | null;
  phone?: string | null;
  homePhone?: string | null;
  workPhone?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  namePrefix?: string | null;
  nameSuffix?: string | null;
  jobTitle?: string | null;
  address?: Address | null;
  /** ISO 8601 calendar date, YYYY-MM-DD */
  birthdate?: string | null;
  /** IANA time zone name */
  timezone?: string | null;
  /** BCP 47 language tag */
  language?: string | null;
  emailFormat?: EmailFormat | null;
  emailConsent?: Consent | null;
  smsConsent?: Consent | null;
  customFields?: JsonObject | null;
}

/**
 * Per-provider extras that do not belong to the unified model (`providerOptions.<key>`), by the
 * provider's key. Each provider declares its own part in its folder
 * (`src/providers/<name>/options.ts`, by declaration merging), so the model names none of them.
 */
// biome-ignore lint/suspicious/noEmptyInterface: each provider's options.ts adds its part.
export interface ProviderOptions {}

/** The merged, unified view of a contact (what the `Contact` GraphQL type shows). */
export interface UnifiedContact extends ContactPatch {
  id: string;
  createdAt?: string | null;
  updatedAt?: string | null;
  records: ProviderRecord[];
}

export interface ProviderRecord {
  provider: ProviderId;
  remoteId: string;
  syncedAt: string;
  /**
   * When a read found nothing at the provider for this link (404 for the remote id): the provider
   * no longer holds the contact. Cleared by the next successful write.
   */
  staleAt?: string;
}

/** The fields that name or reach a person (PII: the logger hashes them, with birthdate and address). */
export const PERSON_FIELDS = [
  'email',
  'phone',
  'homePhone',
  'workPhone',
  'firstName',
  'lastName',
  'namePrefix',
  'nameSuffix',
] as const;

/** Scalar leaves of the model, as dotted paths (`address.country`). Used by capabilities and droppedFields. */
export const CONTACT_FIELDS = [
  'externalId',
  ...PERSON_FIELDS,
  'jobTitle',
  'address.line1',
  'address.line2',
  'address.city',
  'address.state',
  'address.postalCode',
  'address.county',
  'address.country',
  'birthdate',
  'timezone',
  'language',
  'emailFormat',
  'emailConsent.status',
  'emailConsent.optInType',
  'emailConsent.verified',
  'emailConsent.authorized',
  'smsConsent.status',
  'smsConsent.optInType',
  'smsConsent.verified',
  'smsConsent.authorized',
  'customFields',
] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];

const NESTED = new Set(['address', 'emailConsent', 'smsConsent']);

/**
 * Flattens a patch into `[path, value]` leaves. A nested object sent as `null` clears every leaf
 * beneath it; `customFields` stays one leaf per key (`customFields.plan`).
 */
export function flattenPatch(patch: ContactPatch): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) {
      continue;
    }
    if (NESTED.has(key)) {
      if (value === null) {
        for (const field of CONTACT_FIELDS) {
          if (field.startsWith(`${key}.`)) {
            out.push([field, null]);
          }
        }
      } else {
        for (const [sub, subValue] of Object.entries(value as Record<string, unknown>)) {
          if (subValue !== undefined) {
            out.push([`${key}.${sub}`, subValue]);
          }
        }
      }
    } else if (key === 'customFields') {
      if (value === null) {
        out.push(['customFields', null]);
      } else {
        for (const [sub, subValue] of Object.entries(value as JsonObject)) {
          if (subValue !== undefined) {
            out.push([`customFields.${sub}`, subValue]);
          }
        }
      }
    } else {
      out.push([key, value]);
    }
  }
  return out;
}

/** True when the patch clears (sends null for) at least one leaf. */
export function patchClears(patch: ContactPatch): boolean {
  return flattenPatch(patch).some(([, v]) => v === null);
}

/**
 * Two patches of one contact as one, `b` applied after `a` (later wins field by field, null
 * clears). `null` when no single patch means the same: `a` clears a whole group (address, a
 * consent, customFields) that `b` then partly sets.
 */
export function mergePatches(a: ContactPatch, b: ContactPatch): ContactPatch | null {
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [key, value] of Object.entries(b)) {
    if (value === undefined) {
      continue;
    }
    const prev = out[key];
    if ((NESTED.has(key) || key === 'customFields') && value !== null && prev !== undefined) {
      if (prev === null) {
        return null;
      }
      const merged: Record<string, unknown> = { ...(prev as Record<string, unknown>) };
      for (const [sub, subValue] of Object.entries(value as Record<string, unknown>)) {
        if (subValue !== undefined) {
          merged[sub] = subValue;
        }
      }
      out[key] = merged;
    } else {
      out[key] = value;
    }
  }
  return out as ContactPatch;
}

/**
 * Applies a patch onto a contact view: absent keys keep their value, null clears, nested objects
 * merge leaf by leaf. Returns a new object.
 */
export function applyPatch<T extends ContactPatch>(base: T, patch: ContactPatch): T {
  const next: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) {
      continue;
    }
    if ((NESTED.has(key) || key === 'customFields') && value !== null) {
      const prev = (next[key] ?? {}) as Record<string, unknown>;
      const merged: Record<string, unknown> = { ...prev };
      for (const [sub, subValue] of Object.entries(value as Record<string, unknown>)) {
        if (subValue === undefined) {
          continue;
        }
        if (subValue === null) {
          delete merged[sub];
        } else {
          merged[sub] = subValue;
        }
      }
      next[key] = Object.keys(merged).length > 0 ? merged : null;
    } else {
      next[key] = value;
    }
  }
  return next as T;
}

/**
 * Merges read results: the first value that is not null/undefined wins per leaf, in the order
 * given (callers pass providers in registry order, the freshest answer first).
 */
export function mergeViews(views: ContactPatch[]): ContactPatch {
  const out: Record<string, unknown> = {};
  for (const view of views) {
    for (const [key, value] of Object.entries(view)) {
      if (value === undefined || value === null) {
        continue;
      }
      if (NESTED.has(key) || key === 'customFields') {
        const prev = (out[key] ?? {}) as Record<string, unknown>;
        const merged = { ...prev };
        for (const [sub, subValue] of Object.entries(value as Record<string, unknown>)) {
          if (merged[sub] === undefined && subValue !== undefined && subValue !== null) {
            merged[sub] = subValue;
          }
        }
        out[key] = merged;
      } else if (out[key] === undefined) {
        out[key] = value;
      }
    }
  }
  return out as ContactPatch;
}

/** Keeps the leaves of `view` for which `keep(path)` is true (`customFields.x` is tested as `customFields`). */
export function pickLeaves(view: ContactPatch, keep: (path: string) => boolean): ContactPatch {
  const out: Record<string, unknown> = {};
  for (const [path, value] of flattenPatch(view)) {
    if (value === null) {
      continue;
    }
    const test = path.startsWith('customFields.') ? 'customFields' : path;
    if (!keep(test)) {
      continue;
    }
    const dot = path.indexOf('.');
    if (dot === -1) {
      out[path] = value;
    } else {
      const head = path.slice(0, dot);
      const container = (out[head] ?? {}) as Record<string, unknown>;
      container[path.slice(dot + 1)] = value;
      out[head] = container;
    }
  }
  return out as ContactPatch;
}
