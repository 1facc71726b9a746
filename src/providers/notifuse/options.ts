import type { JsonObject } from '../../model/contact.js';
import {
  isPlainObject,
  type OptionChecks,
  type ProviderOptionsPart,
  passThroughField,
  required,
} from '../options.js';

/** Notifuse list subscription statuses (`ContactList.status` of its OpenAPI document). */
export const NOTIFUSE_LIST_STATUSES = [
  'active',
  'pending',
  'unsubscribed',
  'bounced',
  'complained',
] as const;
export type NotifuseListStatus = (typeof NOTIFUSE_LIST_STATUSES)[number];

export interface NotifuseProviderOptions {
  subscribeToLists?: string[] | null;
  /** Set after the contact is written, with `contactLists.updateStatus` (one call per list). */
  listStatuses?: Array<{ listId: string; status: NotifuseListStatus }> | null;
  passThrough?: JsonObject | null;
}

declare module '../../model/contact.js' {
  interface ProviderOptions {
    notifuse?: NotifuseProviderOptions | null;
  }
}

/** At most this many `providerOptions.notifuse.listStatuses` (one `contactLists.updateStatus` each). */
export const MAX_NOTIFUSE_LIST_STATUSES = 20;

/** `providerOptions.notifuse.listStatuses`: list ids once each, statuses from the OpenAPI enum. */
function listStatuses(
  c: OptionChecks,
  path: string,
  notifuse: Record<string, unknown>,
): NotifuseProviderOptions['listStatuses'] | undefined {
  const raw = notifuse['listStatuses'];
  if (raw === null) {
    return null;
  }
  if (!Array.isArray(raw)) {
    return undefined;
  }
  if (raw.length > MAX_NOTIFUSE_LIST_STATUSES) {
    c.add(path, 'INVALID_VALUE', `${path} takes at most ${MAX_NOTIFUSE_LIST_STATUSES} lists`);
    return undefined;
  }
  const out: Array<{ listId: string; status: NotifuseListStatus }> = [];
  raw.forEach((entry: unknown, i) => {
    const at = `${path}.${i}`;
    const listId = isPlainObject(entry) ? c.text(`${at}.listId`, entry['listId']) : undefined;
    const status = isPlainObject(entry) ? entry['status'] : undefined;
    if (typeof listId !== 'string') {
      if (listId !== null || !isPlainObject(entry)) {
        c.add(`${at}.listId`, 'INVALID_VALUE', `${at}.listId is required`);
      }
      return;
    }
    if (!(NOTIFUSE_LIST_STATUSES as readonly unknown[]).includes(status)) {
      c.add(
        `${at}.status`,
        'INVALID_VALUE',
        `${at}.status must be one of ${NOTIFUSE_LIST_STATUSES.join(', ')}`,
      );
      return;
    }
    if (out.some((s) => s.listId === listId)) {
      c.add(`${at}.listId`, 'INVALID_VALUE', `${at}.listId: list ${listId} is given twice`);
      return;
    }
    out.push({ listId, status: status as NotifuseListStatus });
  });
  return out;
}

/** `providerOptions.notifuse`. */
export const notifuseProviderOptions: ProviderOptionsPart<NotifuseProviderOptions> = {
  description: 'Notifuse extras.',
  input(builder) {
    const NotifuseListStatusEnum = builder.enumType('NotifuseListStatus', {
      description:
        "A contact's subscription status in one Notifuse list (OpenAPI `ContactList.status`).",
      values: {
        ACTIVE: { value: 'active', description: 'Receives broadcasts.' },
        PENDING: { value: 'pending', description: 'Awaiting double opt-in.' },
        UNSUBSCRIBED: { value: 'unsubscribed', description: 'Opted out of the list.' },
        BOUNCED: { value: 'bounced', description: 'Deliveries bounce.' },
        COMPLAINED: { value: 'complained', description: 'The contact reported spam.' },
      } satisfies Record<string, { value: NotifuseListStatus; description: string }>,
    });
    const NotifuseListStatusInput = builder.inputType('NotifuseListStatusInput', {
      description: 'The status to set in one Notifuse list.',
      fields: (t) => ({
        listId: t.string(required('Notifuse list id (e.g. `newsletter`).')),
        status: t.field({ type: NotifuseListStatusEnum, ...required('New status.') }),
      }),
    });
    return builder.inputType('NotifuseOptionsInput', {
      description: 'Notifuse-only extras.',
      fields: (t) => ({
        listStatuses: t.field({
          type: [NotifuseListStatusInput],
          description:
            "Statuses to set in lists the contact is in (at most 20), after the contact is written: one `POST /api/contactLists.updateStatus` per list. Notifuse's contact (`ContactInput`) has no list status, so `passThrough` cannot carry it. Only an existing membership changes; add the contact with `subscribeToLists` in the same write (the subscription is sent first), else the list is reported in droppedFields (`providerOptions.notifuse.listStatuses.<listId>`) with the reason. Shown in dry runs as `details.listStatusRequests`.",
        }),
        subscribeToLists: t.stringList({
          description:
            "List ids to subscribe the contact to (status active; an existing unsubscribed/bounced/complained membership is kept). Sent through Notifuse's import, which cannot clear fields: a write that both clears a field and subscribes reports this option in droppedFields.",
        }),
        passThrough: t.field(PASS_THROUGH),
      }),
    });
  },
  validate(notifuse, path, c) {
    let out: Omit<NotifuseProviderOptions, 'passThrough'> | undefined;
    const lists = notifuse['subscribeToLists'];
    if (Array.isArray(lists)) {
      const cleaned: string[] = [];
      lists.forEach((id, i) => {
        const v = c.text(`${path}.subscribeToLists.${i}`, id);
        if (typeof v === 'string') {
          cleaned.push(v);
        }
      });
      out = { subscribeToLists: [...new Set(cleaned)] };
    } else if (lists === null) {
      out = { subscribeToLists: null };
    }
    const statuses = listStatuses(c, `${path}.listStatuses`, notifuse);
    if (statuses !== undefined) {
      out = { ...out, listStatuses: statuses };
    }
    return out;
  },
};

/** `passThrough`: where its keys are merged. */
const PASS_THROUGH = passThroughField(
  'Merged into the wire contact (of contacts.upsert and of contacts.import) after mapping, e.g. `{custom_string_5: "…", full_name: "…"}` (list statuses are `listStatuses`); validated against the Notifuse OpenAPI `ContactInput`.',
);
