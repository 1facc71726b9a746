import type { CallPolicy } from '../../http/policy.js';
import type { CallContext } from '../types.js';
import type { DotdigitalClient } from './client.js';
import { type DataFieldCheck, FULLNAME } from './mapping.js';
import type { CreateDataFieldBody, DataFieldValue } from './wire.js';

/** v2 "Create contact data field": 1–20 letters, digits, `-` or `_`. */
const CREATABLE_NAME = /^[A-Za-z0-9_-]{1,20}$/;

export interface DataFieldCacheOptions {
  client: DotdigitalClient;
  policy: CallPolicy;
  /** The effective data field map: its names are trusted when the list cannot be read. */
  map: Readonly<Record<string, string>>;
  /** How long one `GET /v2/data-fields` answer is reused. */
  ttlMs: number;
  /** DOTDIGITAL_CREATE_DATA_FIELDS: create a missing field before writing it. */
  create: boolean;
}

/** The v2 type a first value suggests; anything but a number or a boolean is a String. */
function typeOf(value: DataFieldValue): CreateDataFieldBody['type'] {
  return typeof value === 'number' ? 'Numeric' : typeof value === 'boolean' ? 'Boolean' : 'String';
}

/**
 * The account's contact data fields (#15 item 3): a real account refuses a whole contact whose
 * `dataFields` names a field it does not have. Read with v2 `GET /v2/data-fields`, kept for
 * `ttlMs`, one read in flight. `check` says whether a field may be sent and, when not, why (the
 * reason lands in `details.droppedFieldReasons`). With `create`, a missing field is created
 * first (`POST /v2/data-fields`, type from the value) and a failed creation is the reason.
 * When the list cannot be read, the names of the configured map are trusted (the operator
 * named them) and other keys are dropped with the read error as reason.
 */
export function createDataFieldCache(opts: DataFieldCacheOptions) {
  const mapped = new Set(Object.values(opts.map).map((n) => n.toUpperCase()));
  let names: Set<string> | null = null;
  let loadedAt = 0;
  let readProblem: string | null = null;
  let inFlight: Promise<void> | null = null;
  /** Creations that failed, by upper-cased name: the reason (kept until the next list read). */
  const failedCreations = new Map<string, string>();

  const fresh = () => names !== null && performance.now() - loadedAt < opts.ttlMs;

  async function read(ctx?: CallContext): Promise<void> {
    const stats = ctx?.stats ?? { upstreamRequests: 0 };
    const outcome = await opts.policy.execute({ provider: 'DOTDIGITAL', idempotent: true }, () =>
      opts.client.listDataFields(stats, ctx?.signal),
    );
    if (outcome.ok) {
      names = new Set(outcome.value.map((n) => n.toUpperCase()));
      loadedAt = performance.now();
      readProblem = null;
      failedCreations.clear();
    } else {
      const info = outcome.error.toInfo();
      readProblem = `the account's data fields could not be read (${info.code}), so only the fields named in DOTDIGITAL_DATA_FIELD_MAP are sent`;
    }
  }

  function canCreate(name: string, value: DataFieldValue): boolean {
    return (
      opts.create &&
      value !== null &&
      CREATABLE_NAME.test(name) &&
      (name.toUpperCase() !== FULLNAME || mapped.has(FULLNAME))
    );
  }

  const check: DataFieldCheck = (name, value) => {
    const upper = name.toUpperCase();
    if (names === null) {
      // Not read yet (a dry run before any write: it calls nobody), so nothing is refused; or the
      // read failed, and only the configured names are trusted.
      return readProblem === null || mapped.has(upper) ? null : readProblem;
    }
    if (names.has(upper)) {
      return null;
    }
    const failed = failedCreations.get(upper);
    if (failed !== undefined) {
      return failed;
    }
    if (canCreate(name, value)) {
      // Created before the write is sent (see `createMissing`); a dry run shows it as sent.
      return null;
    }
    return value === null
      ? `the account has no data field ${upper}, so there is nothing to clear`
      : `the account has no data field ${upper} (create it in Dotdigital, or set DOTDIGITAL_CREATE_DATA_FIELDS=1)`;
  };

  return {
    check,

    /** Whether the list has been read (a dry run before the first write cannot check names). */
    get loaded(): boolean {
      return names !== null;
    },

    /** Makes sure the list is fresh (one read in flight); never throws. */
    async load(ctx?: CallContext): Promise<void> {
      if (fresh()) {
        return;
      }
      inFlight ??= read(ctx).finally(() => {
        inFlight = null;
      });
      await inFlight;
    },

    /**
     * The data fields `run` would write that the account lacks and may be created: each is
     * created (with the type of its first value) and added to the list, or its failure becomes
     * its reason. Does nothing unless `create` is on and the list was read.
     */
    async createMissing(run: (check: DataFieldCheck) => void, ctx: CallContext): Promise<string[]> {
      const known = names;
      if (!opts.create || known === null) {
        return [];
      }
      const wanted = new Map<string, { name: string; value: DataFieldValue }>();
      run((name, value) => {
        const upper = name.toUpperCase();
        if (!known.has(upper) && !failedCreations.has(upper) && canCreate(name, value)) {
          if (!wanted.has(upper)) {
            wanted.set(upper, { name: upper, value });
          }
        }
        return check(name, value);
      });
      const created: string[] = [];
      for (const [upper, { name, value }] of wanted) {
        const outcome = await opts.policy.execute(
          { provider: 'DOTDIGITAL', idempotent: false },
          () =>
            opts.client.createDataField(
              { name, type: typeOf(value), visibility: 'Private' },
              ctx.stats,
              ctx.signal,
            ),
        );
        if (outcome.ok) {
          known.add(upper);
          created.push(upper);
        } else {
          const info = outcome.error.toInfo();
          failedCreations.set(
            upper,
            `the account has no data field ${upper} and creating it failed (${info.code})`,
          );
        }
      }
      return created;
    },

    /** Forgets the list (tests, and a 400 that names an unknown data field). */
    invalidate(): void {
      names = null;
      loadedAt = 0;
    },
  };
}
