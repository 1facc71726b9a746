import { randomUUID } from 'node:crypto';
import type { ContactPatch, ProviderId, ProviderRecord } from '../contacts/model.js';

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
 * The identity map. Matching order is externalId, then email, then phone. `claim` must be atomic:
 * two concurrent claims of the same new key get the same record. A later issue adds a durable
 * implementation behind this interface.
 */
export interface IdentityStore {
  get(id: string): Promise<IdentityRecord | null>;
  find(keys: IdentityKeys): Promise<IdentityRecord | null>;
  /** Finds the record for these keys or creates one (with an empty view). */
  claim(keys: IdentityKeys, now: string): Promise<{ record: IdentityRecord; created: boolean }>;
  /** Stores the record and re-indexes its keys from `record.view`. */
  save(record: IdentityRecord): Promise<void>;
  close(): Promise<void>;
}

const KEY_ORDER = ['externalId', 'email', 'phone'] as const;

function indexKeys(keys: IdentityKeys): string[] {
  const out: string[] = [];
  for (const k of KEY_ORDER) {
    const v = keys[k];
    if (typeof v === 'string' && v !== '') {
      out.push(`${k}:${v}`);
    }
  }
  return out;
}

function clone(record: IdentityRecord): IdentityRecord {
  return structuredClone(record);
}

/** The embedded default: a process-local map. */
export function createMemoryIdentityStore(): IdentityStore {
  const byId = new Map<string, IdentityRecord>();
  const index = new Map<string, string>();
  const owned = new Map<string, string[]>();

  function findSync(keys: IdentityKeys): IdentityRecord | null {
    for (const key of indexKeys(keys)) {
      const id = index.get(key);
      if (id !== undefined) {
        return byId.get(id) ?? null;
      }
    }
    return null;
  }

  function reindex(id: string, keys: IdentityKeys) {
    for (const key of owned.get(id) ?? []) {
      if (index.get(key) === id) {
        index.delete(key);
      }
    }
    const next = indexKeys(keys);
    for (const key of next) {
      index.set(key, id);
    }
    owned.set(id, next);
  }

  return {
    async get(id) {
      const r = byId.get(id);
      return r ? clone(r) : null;
    },
    async find(keys) {
      const r = findSync(keys);
      return r ? clone(r) : null;
    },
    async claim(keys, now) {
      const existing = findSync(keys);
      if (existing) {
        return { record: clone(existing), created: false };
      }
      const record: IdentityRecord = {
        id: randomUUID(),
        view: {},
        records: {},
        createdAt: now,
        updatedAt: now,
      };
      byId.set(record.id, record);
      // Index the claimed keys at once so a second claim in the same batch finds this record.
      reindex(record.id, keys);
      return { record: clone(record), created: true };
    },
    async save(record) {
      const stored = clone(record);
      byId.set(record.id, stored);
      const keys: IdentityKeys = {
        externalId: stored.view.externalId,
        email: stored.view.email,
        phone: stored.view.phone,
      };
      // Keep keys the view does not mention (e.g. claimed but not yet confirmed).
      const previous = owned.get(record.id) ?? [];
      const merged = new Set([...indexKeys(keys)]);
      for (const key of previous) {
        const kind = key.slice(0, key.indexOf(':')) as (typeof KEY_ORDER)[number];
        if (keys[kind] === undefined) {
          merged.add(key);
        }
      }
      for (const key of previous) {
        if (index.get(key) === record.id) {
          index.delete(key);
        }
      }
      for (const key of merged) {
        index.set(key, record.id);
      }
      owned.set(record.id, [...merged]);
    },
    async close() {
      byId.clear();
      index.clear();
      owned.clear();
    },
  };
}
