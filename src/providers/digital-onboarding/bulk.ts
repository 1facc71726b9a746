import { readContact } from './client.js';
import { matchKey } from './mapping.js';
import {
  type DoBulkEntry,
  type DoContactBody,
  type DoErrorObject,
  type DoWireContact,
  ErrorObjectSchema,
} from './wire.js';

/**
 * Reading a bulk answer. Its shape is not documented, so
 * every entry is matched back to the item it answers by the keys it carries (`unique_id`, email),
 * then by an explicit `index`, and by position only when the answer has one entry per item and
 * that entry names no other item.
 */

export type BulkItemOutcome =
  | { kind: 'written'; created: boolean; contact: DoWireContact }
  | { kind: 'failed'; errors: DoErrorObject[]; status: number | null }
  | { kind: 'missing' };

/** Match keys a request body can be recognised by. */
export function keysOfBody(body: DoContactBody): string[] {
  const keys: string[] = [];
  if (typeof body.unique_id === 'string' && body.unique_id.trim() !== '') {
    keys.push(matchKey('unique_id', body.unique_id));
  }
  if (typeof body.email === 'string' && body.email.trim() !== '') {
    keys.push(matchKey('email', body.email));
  }
  return keys;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** Error objects a bulk entry carries (`errors[]`, or a lone `error` string/object). */
export function entryErrors(entry: DoBulkEntry): DoErrorObject[] {
  const out: DoErrorObject[] = [];
  const list = entry['errors'];
  if (Array.isArray(list)) {
    for (const e of list) {
      const parsed = ErrorObjectSchema.safeParse(e);
      if (parsed.success) {
        out.push(parsed.data);
      }
    }
  }
  const single = entry['error'];
  if (out.length === 0 && typeof single === 'string' && single !== '') {
    out.push({ code: single });
  } else if (out.length === 0 && single && typeof single === 'object') {
    const parsed = ErrorObjectSchema.safeParse(single);
    if (parsed.success) {
      out.push(parsed.data);
    }
  }
  return out;
}

/** The contact an entry carries: under `contact` or `data`, or the entry itself. */
function entryContact(entry: DoBulkEntry): DoWireContact | null {
  return readContact(entry['contact']) ?? readContact(entry['data']) ?? readContact(entry);
}

function entryKeys(entry: DoBulkEntry, contact: DoWireContact | null): string[] {
  const keys = new Set<string>();
  for (const source of [entry, contact ?? {}] as Array<Record<string, unknown>>) {
    const uid = text(source['unique_id']);
    if (uid !== undefined) {
      keys.add(matchKey('unique_id', uid));
    }
    const email = text(source['email']);
    if (email !== undefined) {
      keys.add(matchKey('email', email));
    }
  }
  return [...keys];
}

function entryIndex(entry: DoBulkEntry): number | undefined {
  const raw = entry['index'];
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * A per-item word: `created: true|false`, or `action`/`status`/`result` `created` / `updated`.
 * HTTP statuses are no evidence: DO-1 documents 201 for every successful upsert, created or not,
 * and no other success status. Unknown → undefined.
 */
function explicitCreated(entry: DoBulkEntry): boolean | undefined {
  if (typeof entry['created'] === 'boolean') {
    return entry['created'];
  }
  for (const raw of [entry['status'], entry['action'], entry['result']]) {
    if (typeof raw === 'string') {
      const w = raw.toLowerCase();
      if (w === 'created' || w === 'create' || w === 'inserted') {
        return true;
      }
      if (w === 'updated' || w === 'update') {
        return false;
      }
    }
  }
  return undefined;
}

/**
 * Whether an upserted contact was created, from what its answer proves (#15 item 7): the id the
 * gateway had already linked for this contact means it was updated (another id: a new contact);
 * else `updated_at` later than `inserted_at` means updated, equal means created. With neither
 * (the timestamps are required by DO-1 but may be missing or unparsable) it is CREATED, the meaning
 * DO-1 gives its only success status, 201.
 */
export function provesCreated(contact: DoWireContact, linkedRemoteId: string | null): boolean {
  if (linkedRemoteId !== null) {
    return linkedRemoteId !== contact.id;
  }
  const inserted = typeof contact.inserted_at === 'string' ? Date.parse(contact.inserted_at) : NaN;
  const updated = typeof contact.updated_at === 'string' ? Date.parse(contact.updated_at) : NaN;
  if (Number.isFinite(inserted) && Number.isFinite(updated)) {
    return updated <= inserted;
  }
  return true;
}

function asStatus(raw: unknown): number | null {
  const n = typeof raw === 'string' && /^\d{3}$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599 ? n : null;
}

/** The status an item would have had alone: the entry's `status`, else its first error's `meta.status`. */
function entryStatus(entry: DoBulkEntry, errors: readonly DoErrorObject[]): number | null {
  return asStatus(entry['status']) ?? asStatus(errors[0]?.meta?.['status']);
}

/**
 * What happened to each requested item, in request order.
 * Created vs updated: the entry's own word (`action`, `created`) when it has one, else
 * `provesCreated` (the linked id, then the timestamps); never an HTTP status.
 */
export function interpretBulkAnswer(
  requests: readonly DoContactBody[],
  answers: ReadonlyArray<DoBulkEntry | null>,
  remoteIds: ReadonlyArray<string | null> = [],
): BulkItemOutcome[] {
  const parsed = answers.map((entry) => {
    if (!entry) {
      return null;
    }
    const contact = entryContact(entry);
    return { entry, contact, keys: entryKeys(entry, contact), index: entryIndex(entry) };
  });
  const byKey = new Map<string, number>();
  const byIndex = new Map<number, number>();
  parsed.forEach((p, i) => {
    if (!p) {
      return;
    }
    for (const key of p.keys) {
      if (!byKey.has(key)) {
        byKey.set(key, i);
      }
    }
    if (p.index !== undefined && !byIndex.has(p.index)) {
      byIndex.set(p.index, i);
    }
  });
  const requestKeys = requests.map(keysOfBody);
  const used = new Set<number>();
  const take = (i: number | undefined): number | undefined => {
    if (i === undefined || used.has(i)) {
      return undefined;
    }
    used.add(i);
    return i;
  };

  // Pass 1: by key; pass 2: by explicit index; pass 3: by position, when nothing contradicts it.
  const chosen: Array<number | undefined> = requestKeys.map((keys) => {
    for (const key of keys) {
      const hit = take(byKey.get(key));
      if (hit !== undefined) {
        return hit;
      }
    }
    return undefined;
  });
  requests.forEach((_, j) => {
    if (chosen[j] === undefined) {
      chosen[j] = take(byIndex.get(j));
    }
  });
  if (answers.length === requests.length) {
    requests.forEach((_, j) => {
      const p = parsed[j];
      if (chosen[j] !== undefined || used.has(j) || !p || p.index !== undefined) {
        return;
      }
      const mine = new Set(requestKeys[j]);
      const contradicts = p.keys.length > 0 && !p.keys.some((k) => mine.has(k));
      if (!contradicts) {
        chosen[j] = take(j);
      }
    });
  }

  return requests.map((_, j): BulkItemOutcome => {
    const i = chosen[j];
    const p = i === undefined ? null : parsed[i];
    if (!p) {
      return { kind: 'missing' };
    }
    const errors = entryErrors(p.entry);
    if (errors.length > 0 || !p.contact) {
      return errors.length > 0
        ? { kind: 'failed', errors, status: entryStatus(p.entry, errors) }
        : { kind: 'missing' };
    }
    const created = explicitCreated(p.entry) ?? provesCreated(p.contact, remoteIds[j] ?? null);
    return { kind: 'written', created, contact: p.contact };
  });
}

/**
 * Items of a refused bulk request that its errors blame: `meta.field` (`items[2].email`, the
 * sandbox's form), `meta.pointer` / `source.pointer` (`/items/2/email`), `meta.index`, or the
 * item's `unique_id` / `email` in `meta`. Errors that blame no item are returned under -1.
 */
export function blamedItems(
  errors: readonly DoErrorObject[],
  requests: readonly DoContactBody[],
): Map<number, DoErrorObject[]> {
  const keyIndex = new Map<string, number>();
  requests.forEach((body, i) => {
    for (const key of keysOfBody(body)) {
      if (!keyIndex.has(key)) {
        keyIndex.set(key, i);
      }
    }
  });
  const out = new Map<number, DoErrorObject[]>();
  const add = (i: number, e: DoErrorObject) => out.set(i, [...(out.get(i) ?? []), e]);
  for (const e of errors) {
    const meta = (e.meta ?? {}) as Record<string, unknown>;
    const source = (e as Record<string, unknown>)['source'] as Record<string, unknown> | undefined;
    let index: number | undefined;
    for (const raw of [meta['field'], meta['pointer'], source?.['pointer'], meta['path']]) {
      if (typeof raw === 'string') {
        const m = /^\/?items(?:\[(\d+)\]|\/(\d+))/.exec(raw);
        if (m) {
          index = Number(m[1] ?? m[2]);
          break;
        }
      }
    }
    if (index === undefined) {
      for (const raw of [meta['index'], meta['item_index'], meta['item']]) {
        if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) {
          index = raw;
          break;
        }
      }
    }
    if (index === undefined) {
      const uid = text(meta['unique_id']);
      const email = text(meta['email']);
      index =
        (uid !== undefined ? keyIndex.get(matchKey('unique_id', uid)) : undefined) ??
        (email !== undefined ? keyIndex.get(matchKey('email', email)) : undefined);
    }
    add(index !== undefined && index < requests.length ? index : -1, e);
  }
  return out;
}
