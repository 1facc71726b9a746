import type { ProviderErrorInfo } from '../errors.js';
import type { WriteResult, WriteStatus } from './types.js';

/** Builds a WriteResult with the defaults every adapter uses. */
export function writeResult(
  status: WriteStatus,
  fields: Partial<Omit<WriteResult, 'status'>> = {},
): WriteResult {
  return {
    status,
    remoteId: null,
    contact: null,
    droppedFields: [],
    error: null,
    attempts: 0,
    durationMs: 0,
    details: null,
    ...fields,
  };
}

export function failedResult(
  error: ProviderErrorInfo,
  fields: Partial<Omit<WriteResult, 'status' | 'error'>> = {},
): WriteResult {
  return writeResult('FAILED', { ...fields, error });
}

/** Milliseconds since `start` (performance.now()), rounded to 0.01 ms. */
export function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}
