import { randomUUID } from 'node:crypto';
import {
  applyPatch,
  type ContactPatch,
  mergeViews,
  type ProviderId,
  type ProviderRecord,
} from '../model/contact.js';
import type { Outcome } from '../model/outcome.js';

/** The identity keys a contact patch carries (matched in this order). */
export function identityKeysOf(patch: {
  externalId?: string | null;
  email?: string | null;
  phone?: string | null;
}): IdentityKeys {
  return { externalId: patch.externalId, email: patch.email, phone: patch.phone };
}

export interface IdentityKeys {
  externalId?: string | null | undefined;
  email?: string | null | undefined;
  phone?: string | null | undefined;
}

/** What the gateway remembers of one contact: its stable id, its remote ids, its last view. */
export interface IdentityRecord {
  id: string;
  /** The last merged unified view (what the gateway last wrote or read). */
  view: ContactPatch;
  records: Partial<Record<ProviderId, ProviderRecord>>;
  createdAt: string;
  updatedAt: string;
}

/**
 * The identity map. `claim` must be atomic: two concurrent claims of the same new key get the same
 * record. Implemented in memory (tests) and in SQL (`sql-identity.ts`, embedded or PostgreSQL).
 */
export interface IdentityStore {
  get(id: string): Promise<IdentityRecord | null>;
  find(keys: IdentityKeys): Promise<IdentityRecord | null>;
  /** Finds the record for these keys or creates one (with an empty view). */
  claim(keys: IdentityKeys, now: string): Promise<{ record: IdentityRecord; created: boolean }>;
  /**
   * `claim` for many inputs at once, in order (two inputs naming one contact get one record): an
   * async batch answers every item's contact id before any provider is called. Optional: without
   * it callers claim one after another.
   */
  claimMany?(keys: readonly IdentityKeys[], now: string): Promise<IdentityRecord[]>;
  /** Stores the record and indexes it under the keys of `record.view`. */
  save(record: IdentityRecord): Promise<void>;
  close(): Promise<void>;
}

export const IDENTITY_KEY_ORDER = ['externalId', 'email', 'phone'] as const;
type KeyKind = (typeof IDENTITY_KEY_ORDER)[number];
type KeyValues = Partial<Record<KeyKind, string>>;
export type IdentityKeyKind = KeyKind;
/** The keys a record holds (or an input gives), each kind at most once. */
export type IdentityKeyValues = KeyValues;

/** The keys given as non-empty strings (null and '' are "not given" for matching). */
export function presentIdentityKeys(keys: IdentityKeys): KeyValues {
  return present(keys);
}

function present(keys: IdentityKeys): KeyValues {
  const out: KeyValues = {};
  for (const k of IDENTITY_KEY_ORDER) {
    const v = keys[k];
    if (typeof v === 'string' && v !== '') {
      out[k] = v;
    }
  }
  return out;
}

/**
 * The matching rule, shared by every store: keys are tried in order externalId → email → phone,
 * and a record found by a lower key is only a match when it does not hold a *different* value for
 * a higher key the input gives (same phone but another email is another person, e.g. a family
 * sharing a number). Returns the id to use, or null for a new contact.
 */
export function matchIdentity(
  keys: IdentityKeys,
  lookup: (kind: KeyKind, value: string) => string | undefined,
  keysOf: (id: string) => KeyValues,
): string | null {
  const given = present(keys);
  for (const [i, kind] of IDENTITY_KEY_ORDER.entries()) {
    const value = given[kind];
    if (value === undefined) {
      continue;
    }
    const id = lookup(kind, value);
    if (id === undefined) {
      continue;
    }
    const held = keysOf(id);
    const conflict = IDENTITY_KEY_ORDER.slice(0, i).some(
      (higher) =>
        given[higher] !== undefined && held[higher] !== undefined && held[higher] !== given[higher],
    );
    if (!conflict) {
      return id;
    }
  }
  return null;
}

/**
 * The re-indexing rule, shared by every store. For each key kind that `keys` mentions (a non-empty
 * string, or null to clear): the record's previous value of that kind is released (its index
 * entry dropped if it still points at the record), and a new value is pointed at the record
 * (taking the entry over from any other record). Kinds not mentioned (undefined, '') are kept.
 */
export function planReindex(
  previous: KeyValues,
  keys: IdentityKeys,
): {
  /** The keys the record holds afterwards. */
  next: KeyValues;
  /** Index entries to drop when they still point at the record. */
  release: [KeyKind, string][];
  /** Index entries to point at the record (applied after `release`). */
  point: [KeyKind, string][];
} {
  const next: KeyValues = { ...previous };
  const release: [KeyKind, string][] = [];
  const point: [KeyKind, string][] = [];
  for (const kind of IDENTITY_KEY_ORDER) {
    const v = keys[kind];
    if (v === null || (typeof v === 'string' && v !== '')) {
      const old = previous[kind];
      if (old !== undefined) {
        release.push([kind, old]);
      }
      if (v === null) {
        delete next[kind];
      } else {
        next[kind] = v;
        point.push([kind, v]);
      }
    }
  }
  return { next, release, point };
}

/** The embedded default: a process-local map. */
/**
 * `record` after a write of `patch` that these providers took: the patch applied to its view, what
 * each provider says it stored laid over that, and each provider's remote id linked (synced `now`).
 */
export function recordWritten(
  record: IdentityRecord,
  patch: ContactPatch,
  written: ReadonlyArray<{ provider: ProviderId; outcome: Outcome }>,
  now: string,
): void {
  record.view = mergeViews([
    ...written.flatMap(({ outcome }) => (outcome.contact ? [outcome.contact] : [])),
    applyPatch(record.view, patch),
  ]);
  for (const { provider, outcome } of written) {
    if (outcome.remoteId) {
      record.records[provider] = { provider, remoteId: outcome.remoteId, syncedAt: now };
    }
  }
  record.updatedAt = now;
}

/** A new gateway contact, claimed at `now`: a fresh id, nothing known, linked to no provider. */
export function newIdentity(now: string): IdentityRecord {
  return { id: randomUUID(), view: {}, records: {}, createdAt: now, updatedAt: now };
}

export function createMemoryIdentityStore(): IdentityStore {
  const byId = new Map<string, IdentityRecord>();
  const index = new Map<string, string>();
  const owned = new Map<string, KeyValues>();

  const findId = (keys: IdentityKeys) =>
    matchIdentity(
      keys,
      (kind, value) => index.get(`${kind}:${value}`),
      (id) => owned.get(id) ?? {},
    );

  /** Points the record's keys at it; keys the new values do not mention are kept. */
  function reindex(id: string, keys: IdentityKeys) {
    const plan = planReindex(owned.get(id) ?? {}, keys);
    for (const [kind, old] of plan.release) {
      if (index.get(`${kind}:${old}`) === id) {
        index.delete(`${kind}:${old}`);
      }
    }
    for (const [kind, value] of plan.point) {
      index.set(`${kind}:${value}`, id);
    }
    owned.set(id, plan.next);
  }

  return {
    async get(id) {
      const r = byId.get(id);
      return r ? structuredClone(r) : null;
    },
    async find(keys) {
      const id = findId(keys);
      const r = id === null ? undefined : byId.get(id);
      return r ? structuredClone(r) : null;
    },
    async claim(keys, now) {
      const id = findId(keys);
      const existing = id === null ? undefined : byId.get(id);
      if (existing) {
        return { record: structuredClone(existing), created: false };
      }
      const record = newIdentity(now);
      byId.set(record.id, record);
      // Index the claimed keys at once so a second claim in the same batch finds this record.
      reindex(record.id, keys);
      return { record: structuredClone(record), created: true };
    },
    async save(record) {
      // Links are only ever added: a concurrent writer holding an older copy must not drop one.
      const links = { ...byId.get(record.id)?.records, ...record.records };
      byId.set(record.id, structuredClone({ ...record, records: links }));
      reindex(record.id, {
        externalId: record.view.externalId,
        email: record.view.email,
        phone: record.view.phone,
      });
    },
    async close() {
      byId.clear();
      index.clear();
      owned.clear();
    },
  };
}
