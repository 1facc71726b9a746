import type { ContactPatch, ProviderId, ProviderRecord } from '../model/contact.js';
import type { Database, Queryable } from './db.js';
import {
  IDENTITY_KEY_ORDER,
  type IdentityKeyKind,
  type IdentityKeys,
  type IdentityKeyValues,
  type IdentityRecord,
  type IdentityStore,
  matchIdentity,
  newIdentity,
  planReindex,
  presentIdentityKeys,
} from './identity.js';
import {
  copyLinks,
  linkChars,
  Memo,
  type MemoLinks,
  patchedLinks,
  type StoredLink,
  storedLink,
} from './identity-memo.js';
import { LookupBatch } from './lookup-batch.js';
import { Contended, isCanonicalIso, iso, json, jsonMerge, unnest, withRetry } from './sql.js';
import { StatementBatch } from './statement-batch.js';

interface RecordRow {
  id: string;
  view: ContactPatch;
  records: Partial<Record<ProviderId, ProviderRecord>>;
  keys: IdentityKeyValues;
  created_at: Date | string;
  updated_at: Date | string;
}

interface LookupRow extends RecordRow {
  kind: IdentityKeyKind;
  value: string;
}

const toRecord = (row: RecordRow): IdentityRecord => ({
  id: row.id,
  view: row.view ?? {},
  records: row.records ?? {},
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
});

/**
 * The text `keysJson` made of a keys object. The store never changes a keys object once made (a
 * plan's `next` is a new one, or the previous one itself when the keys stay), so a record's keys
 * are stringified once, not on every save that names them (as `$7`, and as `$4` when unchanged).
 */
const keysTexts = new WeakMap<IdentityKeyValues, string>();

/** A record's keys as stored: JSON with the kinds in one order, so equal keys are equal text. */
function keysJson(keys: IdentityKeyValues): string {
  let text = keysTexts.get(keys);
  if (text === undefined) {
    const ordered: IdentityKeyValues = {};
    for (const kind of IDENTITY_KEY_ORDER) {
      if (keys[kind] !== undefined) {
        ordered[kind] = keys[kind];
      }
    }
    text = JSON.stringify(ordered);
    keysTexts.set(keys, text);
  }
  return text;
}

type ReindexPlan = ReturnType<typeof planReindex>;

/**
 * `planReindex` without the no-op: an entry released and pointed again (the record keeps a key)
 * is only pointed (the release would drop it and the point put it straight back). When every key
 * `wanted` names is one the record holds (a known contact written again), `next` is `previous`
 * itself.
 */
function reindexPlan(previous: IdentityKeyValues, wanted: IdentityKeys): ReindexPlan {
  const point: [IdentityKeyKind, string][] = [];
  for (const kind of IDENTITY_KEY_ORDER) {
    const v = wanted[kind];
    if (v === null || (typeof v === 'string' && v !== '')) {
      if (v !== previous[kind]) {
        const plan = planReindex(previous, wanted);
        const pointed = new Set(plan.point.map(([k, value]) => `${k}:${value}`));
        return {
          ...plan,
          release: plan.release.filter(([k, value]) => !pointed.has(`${k}:${value}`)),
        };
      }
      point.push([kind, v]);
    }
  }
  return { next: previous, release: [], point };
}

/**
 * Embedded: a record's links as the merge patch SQLite's `json_patch` applies to the stored ones.
 * That patch merges recursively (RFC 7396) where jsonb `||` replaces a provider's link whole, so
 * each optional member a link lacks is sent as null, which the patch removes: a cleared `staleAt`
 * is cleared in the row too, as on PostgreSQL and in memory.
 */
function linksJson(links: Partial<Record<ProviderId, ProviderRecord>>): string {
  const patch: Record<string, StoredLink> = {};
  for (const provider in links) {
    patch[provider] = storedLink(links[provider as ProviderId]!, null);
  }
  return JSON.stringify(patch);
}

/** `[kinds, values]`: the two array parameters of a list of index entries. */
function pairsOf(entries: ReadonlyArray<readonly [IdentityKeyKind, string]>): [string[], string[]] {
  return [entries.map(([k]) => k), entries.map(([, v]) => v)];
}

/** A new contact's claim (PostgreSQL's CLAIM_NEW): its id, keys (JSON), time and index entries. */
interface NewClaim {
  id: string;
  keys: string;
  now: string;
  point: ReadonlyArray<readonly [IdentityKeyKind, string]>;
}

/** Records whose stored keys this handle last saw (a hint for `save`, checked when used). */
const KNOWN_KEYS_MAX = 10_000;

/** The (kind, value) pairs of the keys given as non-empty strings. */
function givenPairs(keys: IdentityKeys): [IdentityKeyKind, string][] {
  return Object.entries(presentIdentityKeys(keys)) as [IdentityKeyKind, string][];
}

/** A look-up's answer: the record an index entry points at, and the records by id. */
interface Found {
  pointer(kind: IdentityKeyKind, value: string): string | undefined;
  row(id: string): LookupRow | undefined;
}

/** A look-up that found at most one entry (one key given: most writes). */
class FoundOne implements Found {
  readonly #only: LookupRow | undefined;
  constructor(only: LookupRow | undefined) {
    this.#only = only;
  }
  pointer(kind: IdentityKeyKind, value: string): string | undefined {
    const r = this.#only;
    return r !== undefined && r.kind === kind && r.value === value ? r.id : undefined;
  }
  row(id: string): LookupRow | undefined {
    return this.#only !== undefined && this.#only.id === id ? this.#only : undefined;
  }
}

class FoundMany implements Found {
  readonly #pointer: Map<string, string>;
  readonly #byId: Map<string, LookupRow>;
  constructor(rows: readonly LookupRow[]) {
    this.#pointer = new Map(rows.map((r) => [`${r.kind}:${r.value}`, r.id]));
    this.#byId = new Map(rows.map((r) => [r.id, r]));
  }
  pointer(kind: IdentityKeyKind, value: string): string | undefined {
    return this.#pointer.get(`${kind}:${value}`);
  }
  row(id: string): LookupRow | undefined {
    return this.#byId.get(id);
  }
}

/** The one key given (`presentIdentityKeys`' answer), or null when it gives none or several. */
function onlyKey(given: IdentityKeyValues): readonly [IdentityKeyKind, string] | null {
  let only: IdentityKeyKind | undefined;
  for (const kind in given) {
    if (only !== undefined) {
      return null;
    }
    only = kind as IdentityKeyKind;
  }
  return only === undefined ? null : [only, given[only]!];
}

/**
 * The identity map in SQL (embedded SQLite or PostgreSQL), with the memory store's semantics:
 * the same matching rule (`matchIdentity`), the same re-indexing (`planReindex`), links only ever
 * added on save. `claim` is atomic across processes: the index's primary key on (kind, value)
 * lets only one of two concurrent claims of a new key point it at its record; the other one's
 * transaction is rolled back and run again, and then finds the winner's record.
 */
export function createSqlIdentityStore(db: Database): IdentityStore {
  const records = db.table('identity_records');
  const keysTable = db.table('identity_keys');
  const keyRows = unnest(db, 'u', { kind: '$1::text[]', value: '$2::text[]' });
  /**
   * The stored keys of records this handle read or wrote last: `save` re-indexes against them
   * without reading the row again, on the condition that the row still holds them (else it reads).
   */
  const known = new Map<string, IdentityKeyValues>();
  /** A record already known is updated in place; the first remembered goes first. */
  const remember = (id: string, keys: IdentityKeyValues) => {
    const size = known.size;
    known.set(id, keys);
    if (known.size > size && known.size > KNOWN_KEYS_MAX) {
      known.delete(known.keys().next().value!);
    }
  };

  const LOOKUP_ONE = `SELECT k.kind, k.value, r.id, r.view, r.records, r.keys, r.created_at, r.updated_at
     FROM ${keysTable} k JOIN ${records} r ON r.id = k.record_id
    WHERE k.kind = $1 AND k.value = $2`;

  const embedded = db.embedded;
  const memo = embedded ? Memo.of(embedded.connection) : null;
  /** Drops what a write of record `id` (null: a new one) and of the index entries `pairs` changes. */
  const forget = (id: string | null, pairs: Iterable<readonly [IdentityKeyKind, string]>) =>
    memo?.forget(id, pairs);

  /**
   * Embedded, one key, outside a transaction: the record from the memo, or read now (and kept).
   * Undefined when that does not apply (PostgreSQL, a transaction open): read as usual.
   */
  function lookupNow(kind: IdentityKeyKind, value: string): LookupRow[] | undefined {
    if (!memo || !embedded) {
      return undefined;
    }
    const hit = memo.get(kind, value);
    if (hit) {
      return [
        {
          kind,
          value,
          id: hit.id,
          view: JSON.parse(hit.view) as ContactPatch,
          records: copyLinks(hit.records),
          keys: hit.keys,
          created_at: hit.createdAt,
          updated_at: hit.updatedAt,
        },
      ];
    }
    const rows = embedded.run<LookupRow>(LOOKUP_ONE, [kind, value]);
    if (rows === null) {
      return undefined;
    }
    const row = rows[0];
    if (row) {
      // The caller gets `row` (and may change it): the memo keeps its own copy.
      const records = JSON.parse(JSON.stringify(row.records ?? {})) as MemoLinks;
      memo.set(kind, value, {
        id: row.id,
        view: JSON.stringify(row.view ?? {}),
        records,
        recordsChars: linkChars(records),
        keys: row.keys ?? {},
        createdAt: iso(row.created_at),
        updatedAt: iso(row.updated_at),
      });
    }
    return rows;
  }

  /** The index entries of the given (kind, value) pairs with their records, in one statement. */
  async function lookupRows(
    q: Queryable,
    pairs: ReadonlyArray<readonly [IdentityKeyKind, string]>,
  ): Promise<LookupRow[]> {
    if (pairs.length === 0) {
      return [];
    }
    if (pairs.length === 1) {
      // One key (most writes name only an email): the index entry by its primary key, no arrays.
      return q.query<LookupRow>(LOOKUP_ONE, [pairs[0]![0], pairs[0]![1]]);
    }
    return q.query<LookupRow>(
      `SELECT k.kind, k.value, r.id, r.view, r.records, r.keys, r.created_at, r.updated_at
         FROM ${keysTable} k JOIN ${records} r ON r.id = k.record_id
        WHERE (k.kind, k.value) IN (SELECT kind, value FROM ${keyRows})`,
      [pairs.map(([k]) => k), pairs.map(([, v]) => v)],
    );
  }

  /** PostgreSQL: concurrent requests' one-key look-ups share a statement (./lookup-batch.ts). */
  const shared =
    db.engine === 'postgres'
      ? new LookupBatch<LookupRow>((pairs) =>
          lookupRows(db, pairs as ReadonlyArray<readonly [IdentityKeyKind, string]>),
        )
      : null;

  /**
   * PostgreSQL: concurrent requests' SAVE_POINTED_ONE share a statement (SAVE_POINTED_MANY, by
   * ./statement-batch.ts's rule; two saves of one record never share one). Each answers whether
   * its row was written (its compare-and-set held), as alone.
   */
  const pointedSaves =
    db.engine === 'postgres'
      ? new StatementBatch<unknown[], boolean>({
          alone: async (params) => (await db.query(SAVE_POINTED_ONE, params)).length > 0,
          together: async (many) => {
            // SAVE_POINTED_ONE's parameters, one array per parameter (its rows' columns).
            const columns = many[0]!.map((_, c) =>
              many.map((params) => (params[c] === null ? null : String(params[c]))),
            );
            const rows = await db.query<{ id: string }>(SAVE_POINTED_MANY, columns);
            const written = new Set(rows.map((r) => r.id));
            return many.map((params) => written.has(params[0] as string));
          },
          apart: (params) => params[0] as string,
        })
      : null;

  /**
   * PostgreSQL: concurrent requests' claims of new contacts whose keys nobody held share one
   * statement (CLAIM_NEW_MANY, one commit). Claims naming the same first key never share one (they
   * would fail it whole); one that fails alone (a key taken meanwhile) fails to its caller's retry.
   */
  const newClaims =
    db.engine === 'postgres'
      ? new StatementBatch<NewClaim, true>({
          alone: async (c) => {
            await db.query(CLAIM_NEW, [c.id, c.keys, c.now, ...pairsOf(c.point)]);
            return true;
          },
          together: async (many) => {
            const entries = many.flatMap((c) =>
              c.point.map(([kind, value]) => [kind, value, c.id]),
            );
            await db.query(CLAIM_NEW_MANY, [
              many.map((c) => c.id),
              many.map((c) => c.keys),
              many.map((c) => c.now),
              entries.map((e) => e[0]),
              entries.map((e) => e[1]),
              entries.map((e) => e[2]),
            ]);
            return many.map(() => true as const);
          },
          apart: (c) => `${c.point[0]?.[0]}\u0000${c.point[0]?.[1]}`,
        })
      : null;

  /** The index entries `rows` (the look-up's answer) by key, and their records by id. */
  function lookup(rows: LookupRow[]): Found {
    for (const r of rows) {
      remember(r.id, r.keys ?? {});
    }
    return rows.length <= 1 ? new FoundOne(rows[0]) : new FoundMany(rows);
  }

  const postgres = db.engine === 'postgres';
  // Links are only ever added (`||` keeps the stored providers the copy does not have): a
  // concurrent writer holding an older copy must not drop one. With `$7` set, the row is only
  // changed while it still holds the keys `$7` (else the statement changes nothing). Embedded:
  // `$3` is a merge patch (see `linksJson`), applied to `{}` for a new row.
  const UPSERT = `INSERT INTO ${records} AS r (id, view, records, keys, created_at, updated_at)
     VALUES ($1, $2::jsonb, ${postgres ? '$3::jsonb' : `json_patch('{}', $3)`}, $4::jsonb, $5::timestamptz, $6::timestamptz)
     ON CONFLICT (id) DO UPDATE SET
       view = excluded.view,
       records = ${jsonMerge(db, 'r.records', postgres ? 'excluded.records' : '$3')},
       keys = excluded.keys,
       created_at = excluded.created_at,
       updated_at = excluded.updated_at
     WHERE $7::jsonb IS NULL OR r.keys = $7::jsonb
     RETURNING id`;
  const RELEASE = `DELETE FROM ${keysTable}
      WHERE record_id = $1
        AND (kind, value) IN (SELECT kind, value FROM ${unnest(db, 'u', { kind: '$2::text[]', value: '$3::text[]' })})`;
  // An entry that already points at the record is left alone (no row rewritten).
  const POINT = `INSERT INTO ${keysTable} AS k (kind, value, record_id)
     SELECT kind, value, $1 FROM ${unnest(db, 'u', { kind: '$2::text[]', value: '$3::text[]' })}
      WHERE true
     ON CONFLICT (kind, value) DO UPDATE SET record_id = excluded.record_id
      WHERE k.record_id <> excluded.record_id`;
  /**
   * Embedded: the whole conditional save as one statement (one commit, no BEGIN) when it has no
   * index entry to release and every entry it would point already points at the record (the
   * common case: a known contact written again with the same keys). Then POINT would change
   * nothing, so leaving it out is exact. `$10` is how many entries `$8`/`$9` name. The row must
   * exist (a remembered record; records are never deleted), so the INSERT branch never runs.
   */
  const SAVE_POINTED = `${UPSERT.replace(
    'WHERE $7::jsonb IS NULL OR r.keys = $7::jsonb',
    `WHERE r.keys = $7::jsonb
       AND (SELECT count(*) FROM ${keysTable} k
             WHERE k.record_id = $1
               AND (k.kind, k.value) IN (SELECT kind, value FROM ${unnest(db, 'u', { kind: '$8::text[]', value: '$9::text[]' })})) = $10`,
  )}`;
  /**
   * SAVE_POINTED's common case, on both engines: one key, held by the record already (a known
   * contact written again by its email). The row is updated in place, its entry checked by its
   * primary key; no rows when the keys changed meanwhile or the entry no longer points at the
   * record (then the general save runs, which re-points it). On PostgreSQL it also picks the commit
   * mode by SAVE_IF's rule (below), `before` being the row as it was before this statement (a
   * statement does not see its own changes); SAVE_IF's `INSERT … ON CONFLICT`, `DELETE` and
   * `INSERT` run even when they change nothing: on a local server after 20 ms of idle a save took
   * 0.43–0.53 ms with SAVE_IF and 0.3–0.4 ms with this.
   */
  const savePointedOne = (timestamp: string) => `UPDATE ${records} AS r SET
       view = $2::jsonb,
       records = ${jsonMerge(db, 'r.records', '$3')},
       keys = $4::jsonb,
       created_at = $5${timestamp},
       updated_at = $6${timestamp}
     ${postgres ? `FROM (SELECT records FROM ${records} WHERE id = $1) AS before` : ''}
     WHERE r.id = $1 AND r.keys = $7::jsonb
       AND EXISTS (SELECT 1 FROM ${keysTable} k WHERE k.kind = $8 AND k.value = $9 AND k.record_id = $1)
     RETURNING id${
       postgres
         ? `, set_config('synchronous_commit',
              CASE WHEN NOT EXISTS (
                      SELECT 1 FROM jsonb_each($3::jsonb) AS l
                       WHERE before.records -> l.key ->> 'remoteId'
                             IS DISTINCT FROM l.value ->> 'remoteId')
                   THEN 'off' ELSE current_setting('synchronous_commit') END,
              true) AS commit_mode`
         : ''
     }`;
  const SAVE_POINTED_ONE = savePointedOne('::timestamptz');
  /**
   * PostgreSQL: SAVE_POINTED_ONE for several records at once (concurrent requests' saves,
   * `pointedSaves`), each row with its own compare-and-set; answers the ids written. The commit
   * waits for the WAL flush when any written row gained or changed a provider link (SAVE_IF's
   * rule over the statement's rows; `before` is each row as it was, a statement not seeing its
   * own changes).
   */
  const SAVE_POINTED_MANY = `WITH u AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                            $6::text[], $7::text[], $8::text[], $9::text[])
         AS u (id, view, records, keys, created_at, updated_at, expected, kind, value)
     ),
     before AS (SELECT r.id, r.records FROM ${records} r JOIN u ON r.id = u.id),
     up AS (
       UPDATE ${records} AS r SET
         view = u.view::jsonb,
         records = r.records || u.records::jsonb,
         keys = u.keys::jsonb,
         created_at = u.created_at::timestamptz,
         updated_at = u.updated_at::timestamptz
       FROM u
       WHERE r.id = u.id AND r.keys = u.expected::jsonb
         AND EXISTS (SELECT 1 FROM ${keysTable} k
                      WHERE k.kind = u.kind AND k.value = u.value AND k.record_id = u.id)
       RETURNING r.id
     ),
     mode AS (
       SELECT set_config('synchronous_commit',
                CASE WHEN NOT EXISTS (
                        SELECT 1 FROM up JOIN u ON u.id = up.id JOIN before b ON b.id = up.id,
                               jsonb_each(u.records::jsonb) AS l
                         WHERE b.records -> l.key ->> 'remoteId' IS DISTINCT FROM l.value ->> 'remoteId')
                     THEN 'off' ELSE current_setting('synchronous_commit') END,
                true) AS commit_mode
     )
     SELECT up.id, mode.commit_mode FROM up, mode`;
  /**
   * Embedded, a known contact's save when the memo holds its row under the one entry it points (so
   * that entry points at the record, and the row's keys and links are the memo's: the process is the
   * database's only writer): the row replaced in place with the links already merged (`$3` is the
   * whole links object), no index look-up, no `json_patch`, no `RETURNING` (the count of changed
   * rows answers). After 20 ms of idle it took ~85 µs where SAVE_POINTED_ONE took ~130 µs
   * (p50 of 300 on the bench's machine). Its keys are still compared: no row changes unless
   * they are the ones the memo says.
   */
  const saveKnown = (timestamp: string) => `UPDATE ${records} SET
       view = $2, records = $3, keys = $4, created_at = $5${timestamp}, updated_at = $6${timestamp}
     WHERE id = $1 AND keys = $7`;
  const SAVE_KNOWN = saveKnown('::timestamptz');
  const SAVE_KNOWN_ISO = saveKnown('');
  /**
   * SAVE_POINTED_ONE when both timestamps are already as stored (`isCanonicalIso`: what the
   * gateway's clock and a read give): bound as they are, not reformatted by `strftime`.
   */
  const SAVE_POINTED_ONE_ISO = savePointedOne('');
  /**
   * PostgreSQL: the whole conditional save as one statement (one round trip, one commit): the
   * upsert, then, only when it changed the row, the index entries released and pointed.
   *
   * Its commit waits for the WAL flush (`synchronous_commit` as configured) whenever the save
   * changes identity: an index entry released or pointed, or a provider link (remote id) that the
   * row (as it was before this statement) did not hold. A save that only refreshes what is known
   * of a contact whose links and keys are stored already (its view, `syncedAt`, `updatedAt`: a
   * known contact written again) commits with `synchronous_commit = off` for that transaction
   * alone (`set_config(…, true)`): visible at once and kept if the gateway dies, but a crash of
   * the database server itself within ~3 × `wal_writer_delay` (600 ms by default) can lose that
   * refresh, never a link. On a server whose WAL flush takes milliseconds this is most of a
   * known contact's write (see docs/architecture.md, "What is durable when").
   */
  const SAVE_IF = `WITH before AS (SELECT records FROM ${records} WHERE id = $1),
     up AS (${UPSERT}),
     released AS (
       DELETE FROM ${keysTable} k USING up
        WHERE k.record_id = up.id
          AND (k.kind, k.value) IN (SELECT kind, value FROM unnest($8::text[], $9::text[]) AS u (kind, value))
       RETURNING 1
     ),
     pointed AS (
       INSERT INTO ${keysTable} AS k (kind, value, record_id)
       SELECT u.kind, u.value, up.id FROM unnest($10::text[], $11::text[]) AS u (kind, value), up
       ON CONFLICT (kind, value) DO UPDATE SET record_id = excluded.record_id
        WHERE k.record_id <> excluded.record_id
       RETURNING 1
     )
     SELECT id, set_config('synchronous_commit',
              CASE WHEN NOT EXISTS (SELECT 1 FROM released)
                    AND NOT EXISTS (SELECT 1 FROM pointed)
                    AND NOT EXISTS (
                      SELECT 1 FROM jsonb_each($3::jsonb) AS l
                       WHERE (SELECT records FROM before) -> l.key ->> 'remoteId'
                             IS DISTINCT FROM l.value ->> 'remoteId')
                   THEN 'off' ELSE current_setting('synchronous_commit') END,
              true) AS commit_mode
       FROM up`;

  /**
   * PostgreSQL: a new contact whose keys nobody holds, its record and index entries in one
   * statement. No `ON CONFLICT`: a key taken meanwhile is a unique violation (retried).
   */
  const CLAIM_NEW = `WITH rec AS (
       INSERT INTO ${records} (id, view, records, keys, created_at, updated_at)
       VALUES ($1, '{}'::jsonb, '{}'::jsonb, $2::jsonb, $3::timestamptz, $3::timestamptz)
       RETURNING id
     )
     INSERT INTO ${keysTable} (kind, value, record_id)
     SELECT u.kind, u.value, rec.id FROM unnest($4::text[], $5::text[]) AS u (kind, value), rec`;

  /**
   * PostgreSQL: CLAIM_NEW for several new contacts at once (concurrent requests' claims,
   * `newClaims`): `$1`–`$3` the records (id, keys, time), `$4`–`$6` every index entry with its
   * record's id. A key any of them shares with another claim, of this statement or committed
   * meanwhile, fails it whole (unique_violation, nothing kept), and each claim is sent again alone.
   */
  const CLAIM_NEW_MANY = `WITH rec AS (
       INSERT INTO ${records} (id, view, records, keys, created_at, updated_at)
       SELECT r.id, '{}'::jsonb, '{}'::jsonb, r.keys::jsonb, r.at::timestamptz, r.at::timestamptz
         FROM unnest($1::text[], $2::text[], $3::text[]) AS r (id, keys, at)
       RETURNING id
     )
     INSERT INTO ${keysTable} (kind, value, record_id)
     SELECT u.kind, u.value, rec.id
       FROM unnest($4::text[], $5::text[], $6::text[]) AS u (kind, value, record_id)
       JOIN rec ON rec.id = u.record_id`;

  const upsertParams = (
    record: IdentityRecord,
    keys: IdentityKeyValues,
    expected: string | null,
  ) => [
    record.id,
    json(record.view),
    postgres ? json(record.records) : linksJson(record.records),
    keysJson(keys),
    record.createdAt,
    record.updatedAt,
    expected,
  ];

  /**
   * Embedded: `record` saved by SAVE_KNOWN when the memo holds its row, with the keys `expected`,
   * under the one entry the save points and no entry released (a known contact written again by its
   * email). The memo then has the row as stored, the save applied. False when that does not hold
   * or the row did not change (the general save runs).
   */
  function saveKnownNow(
    record: IdentityRecord,
    plan: ReturnType<typeof reindexPlan>,
    expected: string,
    up: unknown[],
  ): boolean {
    if (!memo || !embedded || plan.release.length > 0 || plan.point.length !== 1) {
      return false;
    }
    const [kind, value] = plan.point[0]!;
    const stored = memo.get(kind, value);
    if (!stored || stored.id !== record.id || keysJson(stored.keys) !== expected) {
      return false;
    }
    const links = patchedLinks(stored.records, record.records);
    const params = up.slice();
    params[2] = JSON.stringify(links);
    const asStored = isCanonicalIso(record.createdAt) && isCanonicalIso(record.updatedAt);
    let changed: number | null;
    try {
      changed = embedded.change(asStored ? SAVE_KNOWN_ISO : SAVE_KNOWN, params);
    } catch (err) {
      forget(record.id, plan.point);
      throw err;
    }
    if (changed !== 1) {
      if (changed !== null) {
        forget(record.id, plan.point);
      }
      return false;
    }
    memoSaved(memo, record, links, up[1] as string, plan);
    return true;
  }

  /** Puts `record` in the memo as just stored: `view` as sent, `links` the row's links now. */
  function memoSaved(
    into: Memo,
    record: IdentityRecord,
    links: MemoLinks,
    view: string,
    plan: ReturnType<typeof reindexPlan>,
  ): void {
    into.saved(
      {
        id: record.id,
        view,
        records: links,
        recordsChars: linkChars(links),
        keys: plan.next,
        createdAt: iso(record.createdAt),
        updatedAt: iso(record.updatedAt),
      },
      plan.point,
    );
  }

  /**
   * Saves `record` if its row still holds the keys `previous` (what this handle last saw), without
   * reading it first. False when the row's keys changed meanwhile (nothing written).
   */
  async function saveIf(
    record: IdentityRecord,
    previous: IdentityKeyValues,
    wanted: IdentityKeys,
  ): Promise<boolean> {
    const plan = reindexPlan(previous, wanted);
    const expected = keysJson(previous);
    let saved: boolean;
    if (db.engine === 'postgres') {
      const up = upsertParams(record, plan.next, expected);
      saved =
        plan.release.length === 0 &&
        plan.point.length === 1 &&
        (await pointedSaves!.ask([...up, plan.point[0]![0], plan.point[0]![1]]));
      if (!saved) {
        const rows = await db.query(SAVE_IF, [
          ...up,
          ...pairsOf(plan.release),
          ...pairsOf(plan.point),
        ]);
        saved = rows.length > 0;
      }
    } else {
      const up = upsertParams(record, plan.next, expected);
      saved = saveKnownNow(record, plan, expected, up);
      if (!saved && plan.release.length === 0) {
        const statement =
          plan.point.length !== 1
            ? SAVE_POINTED
            : isCanonicalIso(record.createdAt) && isCanonicalIso(record.updatedAt)
              ? SAVE_POINTED_ONE_ISO
              : SAVE_POINTED_ONE;
        const params =
          plan.point.length === 1
            ? [...up, plan.point[0]![0], plan.point[0]![1]]
            : [...up, ...pairsOf(plan.point), plan.point.length];
        const before = memo?.entryOf(record.id);
        let now: unknown[] | null;
        try {
          // Run now (synchronously, nothing else between): the memo is brought up to date right
          // after it, not dropped before it.
          now = embedded?.run(statement, params) ?? null;
        } catch (err) {
          forget(record.id, plan.point);
          throw err;
        }
        if (now === null) {
          forget(record.id, plan.point);
          saved = (await db.query(statement, params)).length > 0;
          forget(record.id, plan.point);
        } else {
          saved = now.length > 0;
          if (saved && before && memo) {
            // Stored just now: the row as it was (`before`) with this save applied (links
            // replace a provider's link whole, others stay), each entry pointed at it.
            const links = patchedLinks(before.records, record.records);
            memoSaved(memo, record, links, up[1] as string, plan);
          } else {
            forget(record.id, plan.point);
          }
        }
      }
      if (!saved) {
        const touched = [...plan.release, ...plan.point];
        forget(record.id, touched);
        saved = await db.transaction(async (tx) => {
          const rows = await tx.query(UPSERT, up);
          if (rows.length === 0) {
            return false;
          }
          if (plan.release.length > 0) {
            await tx.query(RELEASE, [record.id, ...pairsOf(plan.release)]);
          }
          if (plan.point.length > 0) {
            await tx.query(POINT, [record.id, ...pairsOf(plan.point)]);
          }
          return true;
        });
        forget(record.id, touched);
      }
    }
    if (saved) {
      remember(record.id, plan.next);
    } else {
      known.delete(record.id);
    }
    return saved;
  }

  async function findIn(q: Queryable, keys: IdentityKeys) {
    const given = presentIdentityKeys(keys);
    const one = onlyKey(given);
    // One key outside a transaction (q is the database): the embedded memo or a read now; on
    // PostgreSQL, shared with other requests' look-ups asked while one is out (./lookup-batch.ts).
    const oneOutside = one !== null && q === db;
    const rows =
      (oneOutside ? lookupNow(one[0], one[1]) : undefined) ??
      (oneOutside && shared
        ? await shared.get(one[0], one[1])
        : await lookupRows(
            q,
            one !== null ? [one] : (Object.entries(given) as [IdentityKeyKind, string][]),
          ));
    const found = lookup(rows);
    if (one !== null) {
      // One key: its entry's record (no higher key given for it to contradict).
      return { found, row: rows[0] };
    }
    const id = matchIdentity(
      keys,
      (kind, value) => found.pointer(kind, value),
      (id) => found.row(id)?.keys ?? {},
    );
    return { found, row: id === null ? undefined : found.row(id) };
  }

  return {
    async get(id) {
      const rows = await db.query<RecordRow>(
        `SELECT id, view, records, keys, created_at, updated_at FROM ${records} WHERE id = $1`,
        [id],
      );
      if (rows[0]) {
        remember(rows[0].id, rows[0].keys ?? {});
      }
      return rows[0] ? toRecord(rows[0]) : null;
    },

    async find(keys) {
      const { row } = await findIn(db, keys);
      return row ? toRecord(row) : null;
    },

    async claim(keys, now) {
      // A known contact (the common case) is one statement, outside any transaction.
      const seen = await findIn(db, keys);
      if (seen.row) {
        return { record: toRecord(seen.row), created: false };
      }
      // New: the first attempt creates it from what that statement saw (the compare-and-set
      // inserts below notice a concurrent change, and a retry looks again inside the transaction).
      let first: typeof seen | null = seen;
      return withRetry(async () => {
        const looked = first;
        first = null;
        if (looked && db.engine === 'postgres') {
          const plan = planReindex({}, keys);
          if (
            plan.point.every(([kind, value]) => looked.found.pointer(kind, value) === undefined)
          ) {
            // Every key was free: the record and its index entries in one statement (one round
            // trip, one commit). A key a concurrent claim inserted meanwhile fails it whole
            // (unique_violation, nothing kept) and the retry finds that claim's record.
            const record = newIdentity(now);
            await newClaims!.ask({
              id: record.id,
              keys: keysJson(plan.next),
              now,
              point: plan.point,
            });
            remember(record.id, plan.next);
            return {
              record: { ...record, createdAt: iso(now), updatedAt: iso(now) },
              created: true,
            };
          }
        }
        // A key another record holds may be taken over: its memo entry goes (before and after).
        const touched = givenPairs(keys);
        forget(null, touched);
        return db
          .transaction(async (tx) => {
            const { found, row } = looked ?? (await findIn(tx, keys));
            if (row) {
              return { record: toRecord(row), created: false };
            }
            const record = newIdentity(now);
            const plan = planReindex({}, keys);
            await tx.query(
              `INSERT INTO ${records} (id, view, records, keys, created_at, updated_at)
             VALUES ($1, '{}'::jsonb, '{}'::jsonb, $2::jsonb, $3::timestamptz, $3::timestamptz)`,
              [record.id, keysJson(plan.next), now],
            );
            for (const [kind, value] of plan.point) {
              // Compare-and-set against what the lookup saw: a key nobody held must still be free
              // (a concurrent claim of it makes this wait for that one, then see it taken), and a
              // key another record held (the matching rule turned it down) must still be theirs.
              const holder = found.pointer(kind, value);
              const done =
                holder === undefined
                  ? await tx.query(
                      `INSERT INTO ${keysTable} (kind, value, record_id) VALUES ($1, $2, $3)
                     ON CONFLICT (kind, value) DO NOTHING RETURNING record_id`,
                      [kind, value, record.id],
                    )
                  : await tx.query(
                      `UPDATE ${keysTable} SET record_id = $3
                      WHERE kind = $1 AND value = $2 AND record_id = $4 RETURNING record_id`,
                      [kind, value, record.id, holder],
                    );
              if (done.length === 0) {
                throw new Contended(`identity key ${kind}`);
              }
            }
            remember(record.id, plan.next);
            return {
              record: { ...record, createdAt: iso(now), updatedAt: iso(now) },
              created: true,
            };
          })
          .finally(() => forget(null, touched));
      });
    },

    async claimMany(list, now) {
      const given = list.map((k) => presentIdentityKeys(k));
      const slow: number[] = [];
      // It only points keys nobody held (no memo entry names them); dropped anyway, to be sure.
      const touched = given.flatMap((g) => Object.entries(g) as [IdentityKeyKind, string][]);
      const out = await withRetry(() =>
        db.transaction(async (tx) => {
          slow.length = 0;
          const pairs = new Map<string, [IdentityKeyKind, string]>();
          for (const g of given) {
            for (const [kind, value] of Object.entries(g) as [IdentityKeyKind, string][]) {
              pairs.set(`${kind}:${value}`, [kind, value]);
            }
          }
          const rows = await lookupRows(tx, [...pairs.values()]);
          const pointer = new Map(rows.map((r) => [`${r.kind}:${r.value}`, r.id]));
          const known = new Map<string, { record: IdentityRecord; keys: IdentityKeyValues }>(
            rows.map((r) => [r.id, { record: toRecord(r), keys: r.keys ?? {} }]),
          );
          const fresh: Array<{ record: IdentityRecord; keys: IdentityKeyValues }> = [];
          const result = list.map((keys, i): IdentityRecord | null => {
            const id = matchIdentity(
              keys,
              (kind, value) => pointer.get(`${kind}:${value}`),
              (id) => known.get(id)?.keys ?? {},
            );
            if (id !== null) {
              return known.get(id)!.record;
            }
            const plan = planReindex({}, keys);
            // A key another record holds (the matching rule turned it down): the one-by-one claim.
            if (plan.point.some(([kind, value]) => pointer.has(`${kind}:${value}`))) {
              slow.push(i);
              return null;
            }
            const record = newIdentity(iso(now));
            for (const [kind, value] of plan.point) {
              pointer.set(`${kind}:${value}`, record.id);
            }
            known.set(record.id, { record, keys: plan.next });
            fresh.push({ record, keys: plan.next });
            return record;
          });
          for (let c = 0; c < fresh.length; c += 1000) {
            const part = fresh.slice(c, c + 1000);
            await tx.query(
              `INSERT INTO ${records} (id, view, records, keys, created_at, updated_at)
               SELECT id, '{}'::jsonb, '{}'::jsonb, keys::jsonb, $3::timestamptz, $3::timestamptz
                 FROM ${unnest(db, 'u', { id: '$1::text[]', keys: '$2::text[]' })}`,
              [part.map((f) => f.record.id), part.map((f) => keysJson(f.keys)), now],
            );
            const entries = part.flatMap((f) =>
              (Object.entries(f.keys) as [IdentityKeyKind, string][]).map(
                ([kind, value]) => [kind, value, f.record.id] as const,
              ),
            );
            if (entries.length > 0) {
              const done = await tx.query(
                `INSERT INTO ${keysTable} (kind, value, record_id)
                 SELECT kind, value, record_id
                   FROM ${unnest(db, 'u', { kind: '$1::text[]', value: '$2::text[]', record_id: '$3::text[]' })}
                  WHERE true
                 ON CONFLICT (kind, value) DO NOTHING RETURNING record_id`,
                [entries.map((e) => e[0]), entries.map((e) => e[1]), entries.map((e) => e[2])],
              );
              if (done.length !== entries.length) {
                // A concurrent claim took one of these keys: run the whole step again.
                throw new Contended('identity keys (bulk claim)');
              }
            }
          }
          for (const f of fresh) {
            remember(f.record.id, f.keys);
          }
          return result;
        }),
      ).finally(() => forget(null, touched));
      const claimed: IdentityRecord[] = [];
      for (const [i, record] of out.entries()) {
        claimed.push(record ?? (await this.claim(list[i]!, now)).record);
      }
      return claimed;
    },

    async save(record) {
      const wanted = {
        externalId: record.view.externalId,
        email: record.view.email,
        phone: record.view.phone,
      };
      const hint = known.get(record.id);
      if (hint && (await saveIf(record, hint, wanted))) {
        return;
      }
      const touched = givenPairs(wanted);
      forget(record.id, touched);
      await withRetry(() =>
        db.transaction(async (tx) => {
          const current = await tx.query<{ keys: IdentityKeyValues }>(
            `SELECT keys FROM ${records} WHERE id = $1 FOR UPDATE`,
            [record.id],
          );
          const plan = reindexPlan(current[0]?.keys ?? {}, wanted);
          await tx.query(UPSERT, upsertParams(record, plan.next, null));
          if (plan.release.length > 0) {
            await tx.query(RELEASE, [record.id, ...pairsOf(plan.release)]);
          }
          if (plan.point.length > 0) {
            await tx.query(POINT, [record.id, ...pairsOf(plan.point)]);
          }
          remember(record.id, plan.next);
        }),
      ).finally(() => forget(record.id, touched));
    },

    async close() {
      // The database belongs to whoever opened it.
    },
  };
}
