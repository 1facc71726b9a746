import type { ProviderId, ProviderRecord } from '../model/contact.js';
import type { IdentityKeyKind, IdentityKeyValues } from './identity.js';

/**
 * The embedded identity store's memo (src/store/sql-identity.ts): the stored rows of records the
 * process last read or wrote, so a known contact is claimed without a statement, and the link
 * helpers the memo and the store's links patch share.
 */

export type StoredLink = {
  [K in keyof Required<ProviderRecord>]: ProviderRecord[K] | null | undefined;
};

/**
 * A link as the links patch sends it (a missing `staleAt` as `absent`): every member named, so the
 * type makes a new member of ProviderRecord a compile error here.
 */
export function storedLink(link: ProviderRecord, absent: null | undefined): StoredLink {
  return {
    provider: link.provider,
    remoteId: link.remoteId,
    syncedAt: link.syncedAt,
    staleAt: link.staleAt ?? absent,
  };
}

/**
 * A record's links as the memo keeps them: the stored JSON's objects (an undefined member is one
 * the row lacks), never handed out nor changed (`copyLinks` hands out copies).
 */
export type MemoLinks = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** The stored links after the links patch of `links`: what `json_patch` makes of them. */
export function patchedLinks(
  stored: MemoLinks,
  links: Partial<Record<ProviderId, ProviderRecord>>,
): MemoLinks {
  const out: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const provider in stored) {
    out[provider] = stored[provider]!;
  }
  for (const provider in links) {
    out[provider] = storedLink(links[provider as ProviderId]!, undefined);
  }
  return out;
}

/**
 * The links as a read of the row gives them: new objects, without the undefined members (a link's
 * members are strings, so one level of copying is a copy).
 */
export function copyLinks(links: MemoLinks): Partial<Record<ProviderId, ProviderRecord>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const provider in links) {
    const link = links[provider]!;
    const copy: Record<string, unknown> = {};
    for (const member in link) {
      if (link[member] !== undefined) {
        copy[member] = link[member];
      }
    }
    out[provider] = copy;
  }
  return out as Partial<Record<ProviderId, ProviderRecord>>;
}

/** About how many characters of JSON `links` are (the memo's bound). */
export function linkChars(links: MemoLinks): number {
  let chars = 2;
  for (const provider in links) {
    chars += provider.length + 64;
    const link = links[provider]!;
    for (const member in link) {
      const v = link[member];
      chars += typeof v === 'string' ? v.length : 16;
    }
  }
  return chars;
}

/** A record as stored, found by one of its index entries (`view` as its JSON text). */
export interface MemoEntry {
  id: string;
  view: string;
  records: MemoLinks;
  /** `linkChars(records)`. */
  recordsChars: number;
  keys: IdentityKeyValues;
  createdAt: string;
  updatedAt: string;
}

/**
 * Most index entries the memo of one embedded database keeps, and most characters of JSON (the
 * views' text, the links' estimated by `linkChars`).
 */
const MEMO_MAX = 10_000;
const MEMO_MAX_CHARS = 4_000_000;

const charsOf = (entry: MemoEntry) => entry.view.length + entry.recordsChars;

/**
 * Embedded only: the stored rows of records this process last read or wrote, by index entry
 * (`kind\0value`), shared by every identity store on the connection. The process is the database's
 * only writer, so an entry is what is stored as long as: an entry is only made right where the
 * statement that read or wrote the row ran (synchronously, no transaction open), and every write
 * of the identity tables drops the entries it may change, before it is sent and again once it is
 * done (a read between the two sees either state, and the second drop clears what it made). A
 * write run synchronously (a known contact's one-statement save) has nothing between its send and
 * its answer: its record's entries are replaced right after it (dropped if it throws). A known
 * contact found by one key (most writes) is then claimed without a statement.
 */
export class Memo {
  readonly #byKey = new Map<string, MemoEntry>();
  readonly #keysOf = new Map<string, Set<string>>();
  /** The JSON characters of `#byKey`'s entries (an entry under two keys counts twice). */
  #chars = 0;

  static #of = new WeakMap<object, Memo>();
  static of(connection: object): Memo {
    let memo = Memo.#of.get(connection);
    if (!memo) {
      memo = new Memo();
      Memo.#of.set(connection, memo);
    }
    return memo;
  }

  static key(kind: IdentityKeyKind, value: string): string {
    return `${kind}\u0000${value}`;
  }

  get(kind: IdentityKeyKind, value: string): MemoEntry | undefined {
    return this.#byKey.get(Memo.key(kind, value));
  }

  /** Any entry of record `id`. */
  entryOf(id: string): MemoEntry | undefined {
    const first = this.#keysOf.get(id)?.values().next().value;
    return first === undefined ? undefined : this.#byKey.get(first);
  }

  set(kind: IdentityKeyKind, value: string, entry: MemoEntry): void {
    this.#put(Memo.key(kind, value), entry);
    this.#bound();
  }

  /**
   * After a save of record `entry.id` that changed no index entry (every one of `pairs` pointed
   * at it already): the record under `pairs` is `entry`, and under no other key. An entry the
   * record already had is replaced where it is (no reinsertion).
   */
  saved(entry: MemoEntry, pairs: ReadonlyArray<readonly [IdentityKeyKind, string]>): void {
    const wanted = pairs.map(([kind, value]) => Memo.key(kind, value));
    const had = this.#keysOf.get(entry.id);
    if (had) {
      for (const key of had) {
        if (!wanted.includes(key)) {
          this.#drop(key);
        }
      }
    }
    for (const key of wanted) {
      const old = this.#byKey.get(key);
      if (old !== undefined && old.id === entry.id) {
        this.#byKey.set(key, entry);
        this.#chars += charsOf(entry) - charsOf(old);
      } else {
        this.#put(key, entry);
      }
    }
    this.#bound();
  }

  #put(key: string, entry: MemoEntry): void {
    this.#drop(key);
    this.#byKey.set(key, entry);
    let keys = this.#keysOf.get(entry.id);
    if (!keys) {
      keys = new Set();
      this.#keysOf.set(entry.id, keys);
    }
    keys.add(key);
    this.#chars += charsOf(entry);
  }

  #bound(): void {
    while (this.#byKey.size > MEMO_MAX || this.#chars > MEMO_MAX_CHARS) {
      this.#drop(this.#byKey.keys().next().value!);
    }
  }

  /** Drops the entries of record `id` and those of `pairs` (whichever record they name). */
  forget(id: string | null, pairs: Iterable<readonly [IdentityKeyKind, string]>): void {
    if (id !== null) {
      for (const key of [...(this.#keysOf.get(id) ?? [])]) {
        this.#drop(key);
      }
    }
    for (const [kind, value] of pairs) {
      this.#drop(Memo.key(kind, value));
    }
  }

  #drop(key: string): void {
    const entry = this.#byKey.get(key);
    if (entry) {
      this.#byKey.delete(key);
      this.#chars -= charsOf(entry);
      const keys = this.#keysOf.get(entry.id);
      keys?.delete(key);
      if (keys?.size === 0) {
        this.#keysOf.delete(entry.id);
      }
    }
  }
}
