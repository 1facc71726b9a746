/**
 * Turning a schema-valid request body (PATCH, or one import contact) into a `ContactWrite`, with
 * the identifier rules DD-OAS cannot express (`identifiers.email` / `mobileNumber` have no type).
 */
import type { ContactWrite } from './contact.js';
import { identifierValueProblem } from './identifiers.js';

export type IdentifierProblem =
  /** A custom identifier: the sandbox account defines none. */
  | { kind: 'unknown'; name: string }
  /** DD-1: null clears data fields only, never identifiers. */
  | { kind: 'null'; name: 'email' | 'mobileNumber' }
  | { kind: 'notString'; name: 'email' | 'mobileNumber' }
  | { kind: 'syntax'; name: 'email' | 'mobileNumber'; value: string; why: string };

export type IdentifiersResult =
  | { ok: true; identifiers: { email?: string; mobileNumber?: string }; contactId?: number }
  | { ok: false; problem: IdentifierProblem };

/**
 * Checks `identifiers` key by key, in body order, and stops at the first problem. `contactId` is
 * returned apart (only an import may carry it, to match; DD-OAS: it can never be set).
 */
export function readIdentifiers(raw: unknown): IdentifiersResult {
  const identifiers: { email?: string; mobileNumber?: string } = {};
  let contactId: number | undefined;
  const entries = raw !== null && typeof raw === 'object' ? Object.entries(raw) : [];
  for (const [name, value] of entries) {
    if (name === 'contactId' && typeof value === 'number') {
      contactId = value;
      continue;
    }
    if (name !== 'email' && name !== 'mobileNumber') {
      return { ok: false, problem: { kind: 'unknown', name } };
    }
    if (value === null) {
      return { ok: false, problem: { kind: 'null', name } };
    }
    if (typeof value !== 'string') {
      return { ok: false, problem: { kind: 'notString', name } };
    }
    const why = identifierValueProblem(name, value);
    if (why !== undefined) {
      return { ok: false, problem: { kind: 'syntax', name, value, why } };
    }
    identifiers[name] = value;
  }
  return contactId === undefined ? { ok: true, identifiers } : { ok: true, identifiers, contactId };
}

export function describeProblem(problem: IdentifierProblem): string {
  switch (problem.kind) {
    case 'unknown':
      return `'${problem.name}' is not an identifier of this account (the sandbox defines no custom identifiers)`;
    case 'null':
      return 'Identifiers cannot be cleared; null clears data fields only';
    case 'notString':
      return 'must be string';
    default:
      return problem.why;
  }
}

/** Copies the write-relevant keys of a body that passed DD-OAS validation. */
export function toContactWrite(
  body: Record<string, unknown>,
  identifiers: { email?: string; mobileNumber?: string },
): ContactWrite {
  const validated = body as ContactWrite;
  const write: ContactWrite = { identifiers };
  if (validated.dataFields !== undefined) {
    write.dataFields = validated.dataFields;
  }
  if (validated.channelProperties !== undefined) {
    write.channelProperties = validated.channelProperties;
  }
  if (validated.lists !== undefined) {
    write.lists = validated.lists;
  }
  if (validated.preferences !== undefined) {
    write.preferences = validated.preferences;
  }
  if (validated.consentRecords !== undefined) {
    write.consentRecords = validated.consentRecords;
  }
  return write;
}
