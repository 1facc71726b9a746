import { StatementBatch } from './statement-batch.js';

/** A row answered for one index entry (kind, value). */
interface KeyedRow {
  kind: string;
  value: string;
}

/**
 * One-key look-ups of concurrent requests, sent as one statement by {@link StatementBatch}'s rule
 * (alone when none is out; else with every look-up asked in the same turn).
 *
 * A statement reads one snapshot, so each look-up of a batch answers what it would have answered
 * alone at that moment. Two look-ups of the same entry share the statement and each get their own
 * copy of its row.
 */
export class LookupBatch<R extends KeyedRow> {
  readonly #batch: StatementBatch<readonly [string, string], R[]>;

  /** `lookup`: the look-up of index entries, one statement for every pair given (its one-key form for one). */
  constructor(lookup: (pairs: ReadonlyArray<readonly [string, string]>) => Promise<R[]>) {
    this.#batch = new StatementBatch({
      alone: (pair) => lookup([pair]),
      together: async (pairs) => {
        const distinct = new Map<string, readonly [string, string]>();
        for (const pair of pairs) {
          distinct.set(`${pair[0]}\u0000${pair[1]}`, pair);
        }
        const byKey = new Map<string, R>();
        for (const row of await lookup([...distinct.values()])) {
          byKey.set(`${row.kind}\u0000${row.value}`, row);
        }
        const handed = new Set<string>();
        return pairs.map(([kind, value]) => {
          const key = `${kind}\u0000${value}`;
          const row = byKey.get(key);
          if (row === undefined) {
            return [];
          }
          if (handed.has(key)) {
            return [structuredClone(row)];
          }
          handed.add(key);
          return [row];
        });
      },
    });
  }

  /** The rows of entry (kind, value): at most one, as the one-key statement answers. */
  get(kind: string, value: string): Promise<R[]> {
    return this.#batch.ask([kind, value]);
  }
}
