/**
 * Sandbox data on disk, for sandbox mode (#15 item 8): the emulators keep their records in the
 * gateway's data directory, so they live as long as the gateway's identity map. Without this a
 * restart gave the sandboxes empty stores while the identity map still linked old remote ids, and
 * new contacts took old contacts' ids (numeric `contactId`s).
 *
 * A store is saved whole as a V8 structured-clone snapshot (Maps, Sets, bigints and shared object
 * references survive, e.g. three indexes of one contact object), written to a
 * temporary file and renamed over `<dir>/sandboxes/<name>.v8`, so a crash leaves the old or the new
 * file, never half of one. It is written after every write request, before its answer leaves
 * (the provider's state is on disk before the gateway can record what it answered), and after read
 * requests once per tick (a read may finish pending work, e.g. a bulk import); `close()`
 * writes a last time. Functions (clocks) are not saved; the sandbox's new process brings its own.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { SandboxControls } from './types.js';

const FORMAT = 'contact-gateway-sandbox/1';

/** The store's own data fields (functions left out), as one snapshot. */
export function snapshotStore(store: object): Buffer {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(store)) {
    if (typeof value !== 'function') {
      data[key] = value;
    }
  }
  return serialize({ format: FORMAT, data });
}

function kindOf(value: unknown): string {
  if (value instanceof Map) {
    return 'map';
  }
  if (value instanceof Set) {
    return 'set';
  }
  return value === null ? 'null' : typeof value;
}

/**
 * Puts a snapshot's fields back into `store`. Only fields the store has, of the same kind, are
 * taken (a snapshot of an older shape cannot plant foreign fields); returns how many were.
 */
export function restoreStore(store: object, snapshot: Buffer): number {
  const parsed = deserialize(snapshot) as { format?: unknown; data?: Record<string, unknown> };
  if (parsed?.format !== FORMAT || !parsed.data || typeof parsed.data !== 'object') {
    throw new Error('not a sandbox snapshot of this version');
  }
  const target = store as Record<string, unknown>;
  let restored = 0;
  for (const [key, value] of Object.entries(parsed.data)) {
    if (Object.hasOwn(target, key) && kindOf(target[key]) === kindOf(value)) {
      target[key] = value;
      restored += 1;
    }
  }
  return restored;
}

export interface PersistedSandbox {
  /** The snapshot file. */
  readonly file: string;
  /** Whether a snapshot was found and loaded at start. */
  readonly loaded: boolean;
  save(): void;
  /** Stops saving on requests and writes a last snapshot. */
  close(): void;
}

/** Loads `<dir>/sandboxes/<name>.v8` into `store` (when present) and keeps it written. */
export function persistSandbox(
  name: string,
  store: object,
  controls: SandboxControls,
  dir: string,
): PersistedSandbox {
  const folder = path.join(dir, 'sandboxes');
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `${name}.v8`);
  let loaded = false;
  if (existsSync(file)) {
    restoreStore(store, readFileSync(file));
    loaded = true;
  }
  const save = () => {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, snapshotStore(store));
    renameSync(tmp, file);
  };
  let scheduled = false;
  let closed = false;
  const off = controls.onHandled((req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      save();
      return;
    }
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        if (!closed) {
          save();
        }
      });
    }
  });
  return {
    file,
    loaded,
    save,
    close() {
      if (!closed) {
        closed = true;
        off();
        save();
      }
    },
  };
}
