import { mergeViews, pickLeaves } from '../model/contact.js';
import type { ProviderErrorInfo } from '../model/errors.js';
import type { ProviderAdapter, ReadKey, ReadResult } from '../providers/types.js';
import { type IdentityRecord, identityKeysOf } from '../store/identity.js';
import type { ContactsDeps } from './deps.js';
import { loadersFor, type ReadAnswer, type RequestScope } from './loaders.js';
import type { ContactView } from './payload.js';

/** The read path: one contact from every enabled provider, merged over the identity map. */
export class ContactReads {
  readonly #d: ContactsDeps;

  constructor(deps: ContactsDeps) {
    this.#d = deps;
  }

  /**
   * Reads one contact from every enabled provider and merges the answers. Provider data wins;
   * the identity map's last view fills only the fields none of the answering providers stores
   * (e.g. a birthdate kept by a provider that is not enabled now). Unknown to the gateway but found
   * at a provider: the contact gets a gateway id on the spot.
   */
  async getContact(
    by: { id?: string | null; email?: string | null; externalId?: string | null },
    scope: RequestScope,
  ): Promise<ContactView | null> {
    const email = by.email ? by.email.trim().toLowerCase() : null;
    let record: IdentityRecord | null = null;
    if (by.id) {
      record = await this.#d.store.get(by.id);
      if (!record) {
        return null;
      }
    } else {
      record = await this.#d.store.find({ externalId: by.externalId, email });
    }
    const adapters = this.#d.registry.enabled();
    const answers = await Promise.all(
      adapters.map((a): Promise<ReadAnswer> | null => {
        const key = this.#readKey(a, record, { email, externalId: by.externalId ?? null });
        return key ? loadersFor(scope)(a).read.load(key) : null;
      }),
    );
    const found: Array<{ adapter: ProviderAdapter; result: ReadResult }> = [];
    const readErrors: ContactView['readErrors'] = [];
    const held = new Set<string>();
    const now = this.#d.now().toISOString();
    let staled = false;
    answers.forEach((answer, i) => {
      const adapter = adapters[i]!;
      if (answer === null || answer === undefined) {
        if (answer === null) {
          for (const f of readableFields(adapter)) {
            held.add(f);
          }
          const link = record?.records[adapter.id];
          if (record && link) {
            readErrors.push({ provider: adapter.id, error: notFoundAtProvider(adapter, link) });
            if (!link.staleAt) {
              record.records[adapter.id] = { ...link, staleAt: now };
              staled = true;
            }
          }
        }
        return;
      }
      if ('remoteId' in answer) {
        found.push({ adapter, result: answer });
        for (const f of readableFields(adapter)) {
          held.add(f);
        }
      } else {
        readErrors.push({ provider: adapter.id, error: answer });
      }
    });
    if (!record && found.length === 0) {
      return null;
    }
    const providerView = mergeViews(found.map((f) => f.result.contact));
    if (!record) {
      record = (await this.#d.store.claim(identityKeysOf(providerView), now)).record;
    }
    if (found.length > 0) {
      record.view = mergeViews([providerView, pickLeaves(record.view, (path) => !held.has(path))]);
      for (const { adapter, result } of found) {
        record.records[adapter.id] = {
          provider: adapter.id,
          remoteId: result.remoteId,
          syncedAt: now,
        };
      }
      await this.#d.store.save(record);
    } else if (staled) {
      await this.#d.store.save(record);
    }
    const created = found
      .map((f) => f.result.createdAt)
      .filter((t): t is string => !!t)
      .sort();
    const updated = found
      .map((f) => f.result.updatedAt)
      .filter((t): t is string => !!t)
      .sort();
    return this.#d.view(record, readErrors, {
      createdAt: created[0] ?? null,
      updatedAt: updated[updated.length - 1] ?? null,
    });
  }

  #readKey(
    adapter: ProviderAdapter,
    record: IdentityRecord | null,
    asked: { email: string | null; externalId: string | null },
  ): ReadKey | null {
    const link = record?.records[adapter.id];
    // A stale link is not asked again by its id: the contact may be back under another one.
    const remoteId = link && !link.staleAt ? link.remoteId : undefined;
    if (remoteId && adapter.capabilities.readsByRemoteId !== false) {
      return { by: 'remoteId', value: remoteId };
    }
    const email = asked.email ?? record?.view.email ?? null;
    if (email && adapter.capabilities.readKeys.includes('email')) {
      return { by: 'email', value: email };
    }
    const externalId = asked.externalId ?? record?.view.externalId ?? null;
    if (externalId && adapter.capabilities.readKeys.includes('externalId')) {
      return { by: 'externalId', value: externalId };
    }
    return null;
  }

  /** `contacts(ids, emails)`: ids first, then emails, in the order given; null where none. */
  getContacts(
    by: { ids?: readonly string[] | null; emails?: readonly string[] | null },
    scope: RequestScope,
  ): Promise<Array<ContactView | null>> {
    return Promise.all([
      ...(by.ids ?? []).map((id) => this.getContact({ id }, scope)),
      ...(by.emails ?? []).map((email) => this.getContact({ email }, scope)),
    ]);
  }
}

/**
 * A linked contact the provider answered "not found" for (404 for its remote id, or an empty
 * search): reported in `readErrors` instead of serving the cached view as if the provider held it.
 */
function notFoundAtProvider(
  adapter: ProviderAdapter,
  link: { remoteId: string; syncedAt: string; staleAt?: string },
): ProviderErrorInfo {
  const byId = !link.staleAt && adapter.capabilities.readsByRemoteId !== false;
  return {
    code: 'NOT_FOUND',
    message: `${adapter.id} does not have the linked contact ${link.remoteId} (last synced ${link.syncedAt}); the link is marked stale until the contact is written again`,
    httpStatus: byId ? 404 : null,
    retryable: false,
    details: { remoteId: link.remoteId, stale: true },
  };
}

/** What a read from this provider answers for (see `ProviderCapabilities.readableFields`). */
function readableFields(adapter: ProviderAdapter): readonly string[] {
  return adapter.capabilities.readableFields ?? adapter.capabilities.acceptedFields;
}
