import type { ProviderErrorInfo } from '../../model/errors.js';
import type { Outcome } from '../../model/outcome.js';
import { outcomesOf } from '../engine.js';
import { matchKey } from './mapping.js';
import {
  type ImportContactReference,
  type ImportFailure,
  type ImportStatus,
  readImportState,
} from './wire.js';

/**
 * Reading a Dotdigital import's report (`GET /contacts/v3/import/{importId}`): which contact went
 * where, matched back by every identifier the report names.
 */

const { writeResult, failedResult } = outcomesOf('DOTDIGITAL');

/** Where an import's answer says a contact went, by every identifier it names. */
function indexImport(status: ImportStatus) {
  const results = new Map<string, { kind: 'CREATED' | 'UPDATED'; ref: ImportContactReference }>();
  const failures = new Map<string, ImportFailure>();
  const keysOf = (ids: Record<string, unknown> | null | undefined, contactId?: unknown) => {
    const keys: string[] = [];
    for (const [name, value] of Object.entries(ids ?? {})) {
      if (typeof value === 'string' || typeof value === 'number') {
        keys.push(matchKey(name, value));
      }
    }
    if (typeof contactId === 'number') {
      keys.push(matchKey('contactId', contactId));
    }
    return keys;
  };
  for (const [kind, refs] of [
    ['CREATED', status.created],
    ['UPDATED', status.updated],
  ] as const) {
    for (const ref of refs ?? []) {
      for (const key of keysOf(ref.identifiers, ref.contactId)) {
        results.set(key, { kind, ref });
      }
    }
  }
  for (const failure of status.failures ?? []) {
    // The identifier it was matched by first, so that a shared secondary one cannot mislead.
    const match = failure.matchIdentifier ?? '';
    const primary = match === 'contactId' ? failure.contactId : failure.identifiers?.[match];
    const keys = keysOf(failure.identifiers, failure.contactId);
    if (typeof primary === 'string' || typeof primary === 'number') {
      keys.unshift(matchKey(match, primary));
    }
    for (const key of keys) {
      if (!failures.has(key)) {
        failures.set(key, failure);
      }
    }
  }
  return { results, failures };
}

function failureInfo(failure: ImportFailure): ProviderErrorInfo {
  const list = (failure.failures ?? []).map((f) => ({
    code: f.failureCode ?? 'unknown',
    description: f.description ?? '',
  }));
  const first = list[0];
  return {
    code: first?.code ?? 'UPSTREAM_HTTP_ERROR',
    message: `Dotdigital did not import the contact: ${
      list.map((f) => (f.description ? `${f.code} (${f.description})` : f.code)).join('; ') ||
      'no reason given'
    }`,
    httpStatus: 200,
    retryable: false,
    details: { failures: list },
  };
}

/**
 * Each entry's outcome from an import's status: QUEUED while it runs (`status` null), else what
 * its report says of the contact (created, updated, or its failures, e.g. globallySuppressed).
 */
export function importOutcomes(
  importId: string,
  keys: readonly string[],
  status: ImportStatus | null,
  lastError: ProviderErrorInfo | null,
  common: { attempts: number; durationMs: number },
): Outcome[] {
  const details = { importId };
  if (status === null) {
    return keys.map(() => writeResult('QUEUED', { ...common, details, error: lastError }));
  }
  const state = readImportState(status.status);
  const { results, failures } = indexImport(status);
  return keys.map((key) => {
    const hit = results.get(key);
    const failure = failures.get(key);
    if (hit) {
      // Written; a data set of it (lists, preferences, consent) may still have failed.
      return writeResult(hit.kind, {
        ...common,
        remoteId: String(hit.ref.contactId),
        details,
        error: failure ? failureInfo(failure) : null,
      });
    }
    if (failure) {
      return failedResult(failureInfo(failure), { ...common, details });
    }
    return failedResult(
      state === 'FAILED'
        ? {
            code: status.status,
            message: `Dotdigital import ${importId} ended with status ${status.status}`,
            httpStatus: 200,
            retryable: status.status.toLowerCase() === 'failed',
            details: null,
          }
        : {
            code: 'UPSTREAM_BAD_RESPONSE',
            message: `Dotdigital import ${importId} reported nothing for this contact`,
            httpStatus: 200,
            retryable: true,
            details: null,
          },
      { ...common, details },
    );
  });
}
