import { createHash, randomUUID } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import type { WriteItem } from '../types.js';

/** Namespace of the derivation, so a key derived here never equals one derived elsewhere. */
const NAMESPACE = 'contact-gateway/digital-onboarding/idempotency/v1';

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The first 16 bytes of a SHA-256 digest laid out as a UUID with the v4 version and variant bits. */
export function uuidV4FromHash(input: string): string {
  const bytes = createHash('sha256').update(input).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface KeyedRequest {
  method: string;
  /** Path below the base URL (`/v2/partner/contacts`, `/v2/partner/contacts/{id}`). */
  path: string;
  /** The `X-Operator-Override` value (a dry run must never share a key with the real write). */
  overrides: string | null;
  body: unknown;
}

/**
 * The `Idempotency-Key` of one logical Digital Onboarding call. Computed once, outside the retried
 * closure, so every retry of the call carries the same key and Digital Onboarding applies it once.
 *
 * - With the gateway's idempotency key (all items of the request carry one): a UUID-v4-shaped
 *   SHA-256 of (namespace, gateway key(s), method, path, override flags, body). A client that
 *   repeats a write with the same key after a crash or a lost answer sends Digital Onboarding the
 *   same key again; a different body, path or flag set (another chunk, a dry run) gets another.
 * - Without one: a random UUID v4. Hashing the body alone would make two deliberate, identical
 *   writes (set A, set B, set A) collide in Digital Onboarding's replay window and drop the third.
 */
export function idempotencyKeyFor(
  gatewayKeys: ReadonlyArray<string | null | undefined>,
  req: KeyedRequest,
): string {
  if (gatewayKeys.length === 0 || gatewayKeys.some((k) => typeof k !== 'string' || k === '')) {
    return randomUUID();
  }
  const keys = [...new Set(gatewayKeys as string[])].sort();
  return uuidV4FromHash(
    stringify([NAMESPACE, keys, req.method.toUpperCase(), req.path, req.overrides, req.body]) ?? '',
  );
}

/** The gateway key an item carries, if any. */
export function gatewayKeyOf(item: WriteItem): string | null {
  const key = item.idempotencyKey;
  return typeof key === 'string' && key !== '' ? key : null;
}
