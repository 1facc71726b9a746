import { z } from 'zod';

/**
 * Notifuse wire shapes. Requests are typed strictly (what we send validates against Notifuse's
 * OpenAPI document, see test/contract); responses are parsed leniently because the seed, the docs
 * and the server code disagree on optional fields and casing.
 */
export type NotifuseWireValue = string | number | Record<string, unknown> | unknown[] | null;
export interface NotifuseWireContact {
  email: string;
  [column: string]: NotifuseWireValue;
}

export interface UpsertRequestBody {
  workspace_id: string;
  contact: NotifuseWireContact;
}
export interface ImportRequestBody {
  workspace_id: string;
  contacts: NotifuseWireContact[];
  subscribe_to_lists?: string[];
}

/** `contactLists.updateStatus` (OpenAPI `UpdateContactListStatusRequest`). */
export interface UpdateListStatusRequestBody {
  workspace_id: string;
  email: string;
  list_id: string;
  status: string;
}

const WireContactSchema = z.record(z.string(), z.unknown());

/**
 * `{success, message, found}`: the OpenAPI answers a missing membership 404; Notifuse's code
 * answers it 200 `{success: true, message: "contact not in list", found: false}`.
 */
export const UpdateListStatusResponseSchema = z.looseObject({
  success: z.boolean().nullish(),
  message: z.string().nullish(),
  found: z.boolean().nullish(),
});

/** `{email, action: create|update}` (code, current docs) or `{action: created|updated, contact}` (seed). */
export const UpsertResponseSchema = z.looseObject({
  email: z.string().nullish(),
  action: z.string().nullish(),
  contact: WireContactSchema.nullish(),
  error: z.string().nullish(),
});

export const ImportResponseSchema = z.looseObject({
  operations: z.array(
    z.looseObject({
      email: z.string().nullish(),
      action: z.string().nullish(),
      error: z.string().nullish(),
    }),
  ),
  error: z.string().nullish(),
});

export const GetContactResponseSchema = z.looseObject({
  contact: WireContactSchema.refine((c) => typeof c['email'] === 'string', 'contact.email'),
});

export const ErrorBodySchema = z.looseObject({ error: z.string() });

export type ImportOperation = z.infer<typeof ImportResponseSchema>['operations'][number];

/** Normalises the action words every documented form uses. */
export function readAction(
  action: string | null | undefined,
): 'CREATED' | 'UPDATED' | 'ERROR' | null {
  switch ((action ?? '').toLowerCase()) {
    case 'create':
    case 'created':
      return 'CREATED';
    case 'update':
    case 'updated':
      return 'UPDATED';
    case 'error':
      return 'ERROR';
    default:
      return null;
  }
}
