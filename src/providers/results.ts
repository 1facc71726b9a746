import type { ProviderErrorInfo } from '../model/errors.js';
import type { Refusal, WritePlan, WriteResult, WriteStatus } from '../model/outcome.js';
import type { WriteItem } from './types.js';

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

/** A mapped write ready to send (`{item, plan}`), or its result when mapping refused it. */
export function prepareWrite<P>(
  item: WriteItem,
  mapped: WritePlan<P>,
): { item: WriteItem; plan: P } | WriteResult {
  if (!mapped.ok) {
    return writeResult(mapped.status, {
      error: mapped.error,
      droppedFields: mapped.droppedFields,
      remoteId: item.remoteId,
    });
  }
  const { ok: _ok, ...plan } = mapped;
  return { item, plan: plan as unknown as P };
}

/** A refused write's result as a dry run's refusal (what `planWrite` answers). */
export function refusalOf(result: WriteResult): Refusal {
  return {
    ok: false,
    status: result.status === 'SKIPPED' ? 'SKIPPED' : 'FAILED',
    error: result.error!,
    droppedFields: result.droppedFields,
    ...(result.details ? { details: result.details } : {}),
  };
}
