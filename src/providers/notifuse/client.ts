import type { z } from 'zod';
import type { CallStats, HttpClient, HttpRequest, HttpResponse } from '../../http/client.js';
import { clipMessage, retryAfterMs } from '../../http/status.js';
import { answeredError, type UpstreamError } from '../../model/errors.js';
import { answersOf, bodyRequest, sender, withSignal } from '../wire.js';
import type { NotifuseConfig } from './config.js';
import {
  ErrorBodySchema,
  GetContactResponseSchema,
  type ImportRequestBody,
  ImportResponseSchema,
  type UpdateListStatusRequestBody,
  UpdateListStatusResponseSchema,
  type UpsertRequestBody,
  UpsertResponseSchema,
} from './wire.js';

export const NOTIFUSE_PATHS = {
  upsert: '/api/contacts.upsert',
  import: '/api/contacts.import',
  getByEmail: '/api/contacts.getByEmail',
  getByExternalId: '/api/contacts.getByExternalID',
  updateListStatus: '/api/contactLists.updateStatus',
} as const;

const PERMISSION = /insufficient permissions|failed to authenticate|not a member/i;

/**
 * Notifuse errors are `{"error": "<message>"}` (text/plain on some endpoints) with no codes.
 * Permission failures come back as 400 or 500 depending on the endpoint, so they are recognised
 * by message and never retried; other 500s are.
 */
export function notifuseError(res: HttpResponse): UpstreamError {
  const parsed = ErrorBodySchema.safeParse(res.json);
  const message = parsed.success ? parsed.data.error : res.text || `HTTP ${res.status}`;
  const permission = PERMISSION.test(message);
  const wait = retryAfterMs(res.headers);
  return answeredError('NOTIFUSE', {
    ...(permission
      ? { code: res.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', transient: false }
      : {}),
    message: `Notifuse answered ${res.status}: ${clipMessage(message)}`,
    httpStatus: res.status,
    details: wait === null ? null : { retryAfterMs: wait },
  });
}

const { malformed, parse } = answersOf('NOTIFUSE', 'Notifuse');

/** The only part of the adapter that knows Notifuse's paths, methods and status codes. */
export function createNotifuseClient(config: NotifuseConfig, http: HttpClient) {
  const upsertRequest = bodyRequest<UpsertRequestBody>('POST', NOTIFUSE_PATHS.upsert);
  const importRequest = bodyRequest<ImportRequestBody>('POST', NOTIFUSE_PATHS.import);

  const send = sender(http, notifuseError);
  /** A write that must answer 200 with a body of `schema`'s shape. */
  async function sendParsed<S extends z.ZodType>(
    req: HttpRequest,
    schema: S,
    what: string,
    stats: CallStats,
    signal?: AbortSignal,
  ): Promise<z.infer<S>> {
    return parse(await send(req, stats, signal), schema, what);
  }

  const updateListStatusRequest = bodyRequest<UpdateListStatusRequestBody>(
    'POST',
    NOTIFUSE_PATHS.updateListStatus,
  );

  return {
    upsertRequest,
    importRequest,
    updateListStatusRequest,

    /**
     * Sends an `updateListStatusRequest`: `true` when the membership was changed, `false` when the
     * contact is not in the list (200 `found: false` in Notifuse's code, 404 in its OpenAPI).
     */
    async updateListStatus(
      req: HttpRequest,
      stats: CallStats,
      signal?: AbortSignal,
    ): Promise<boolean> {
      const res = await http.request(withSignal(req, signal), stats);
      if (res.status === 404) {
        return false;
      }
      if (res.status !== 200) {
        throw notifuseError(res);
      }
      const parsed = UpdateListStatusResponseSchema.safeParse(res.json);
      if (!parsed.success || parsed.data.success === false) {
        throw malformed(res, 'a list status result');
      }
      return parsed.data.found !== false;
    },

    /** Sends an `upsertRequest` (the request a dry run shows is the one sent). */
    upsert(req: HttpRequest, stats: CallStats, signal?: AbortSignal) {
      return sendParsed(req, UpsertResponseSchema, 'an upsert result', stats, signal);
    },

    /** Sends an `importRequest`. */
    import(req: HttpRequest, stats: CallStats, signal?: AbortSignal) {
      return sendParsed(req, ImportResponseSchema, 'an import result', stats, signal);
    },

    /** `null` when Notifuse has no such contact (404). */
    async get(by: 'email' | 'externalId', value: string, stats: CallStats, signal?: AbortSignal) {
      const res = await http.request(
        withSignal(
          {
            method: 'GET',
            path: by === 'email' ? NOTIFUSE_PATHS.getByEmail : NOTIFUSE_PATHS.getByExternalId,
            query: {
              workspace_id: config.workspaceId,
              ...(by === 'email' ? { email: value } : { external_id: value }),
            },
          },
          signal,
        ),
        stats,
      );
      if (res.status === 404) {
        return null;
      }
      if (res.status !== 200) {
        throw notifuseError(res);
      }
      const parsed = GetContactResponseSchema.safeParse(res.json);
      if (!parsed.success) {
        throw malformed(res, 'a body without a contact');
      }
      return parsed.data.contact;
    },
  };
}

export type NotifuseClient = ReturnType<typeof createNotifuseClient>;
