import type { StartedSandbox } from '../shared/server.js';
import { startSandboxServer } from '../shared/server.js';
import { createNotifuseHandler } from './routes.js';
import { NotifuseStore } from './store.js';

export type {
  ContactListEntry,
  ContactListStatus,
  NotifuseContact,
} from './contact.js';
export { BULK_IMPORT_CHUNK_SIZE, NotifuseStore } from './store.js';

export interface NotifuseSandboxOptions {
  /** The only bearer token the sandbox accepts (`Authorization: Bearer <apiKey>`). */
  apiKey: string;
  /** The only workspace that exists; any other `workspace_id` fails like a missing membership. */
  workspaceId: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (an ephemeral port) */
  port?: number;
}

export interface NotifuseSandbox extends StartedSandbox {
  /** The sandbox's data, for inspection in tests: `get(email)`, `size`, `all()`, `clear()`. */
  readonly store: NotifuseStore;
}

/**
 * Starts a loopback emulator of Notifuse's contacts API (`/api/contacts.*`) with in-memory storage,
 * answering with the status codes and bodies of Notifuse's server code.
 */
export async function startNotifuseSandbox(opts: NotifuseSandboxOptions): Promise<NotifuseSandbox> {
  if (opts.apiKey === '' || opts.workspaceId === '') {
    throw new TypeError('startNotifuseSandbox: apiKey and workspaceId must be non-empty');
  }
  const store = new NotifuseStore();
  const handler = createNotifuseHandler({
    apiKey: opts.apiKey,
    workspaceId: opts.workspaceId,
    store,
  });
  const started = await startSandboxServer({
    name: 'notifuse',
    handler,
    host: opts.host,
    port: opts.port,
  });
  return {
    ...started,
    store,
  };
}
