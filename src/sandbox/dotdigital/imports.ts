/**
 * Bulk imports (`PUT /contacts/v3/import`, DD-3) and their status (`GET /contacts/v3/import/{id}`,
 * DD-4). An import is `NotFinished` for `processingMs` after it was accepted (the value in force at
 * that moment) and then `Finished`.
 *
 * Sandbox decision: the contacts are applied when the import finishes, not when it is accepted,
 * so reads and single writes in between see the old data, as they would while Dotdigital works.
 * A timer finishes each import on time, and every request first finishes any import that is due,
 * so the order of events never depends on timer jitter.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorObject } from 'ajv';
import type { MergeOption } from './contact.js';
import type { IdentifierName } from './identifiers.js';
import { identifierKey, isIdentifierName } from './identifiers.js';
import { describeProblem, readIdentifiers, toContactWrite } from './request.js';
import { toDetails } from './schema.js';
import type { DotdigitalStore } from './store.js';

/** DD-3: at most 25 imports may be running per account; one more is refused with 429. */
export const MAX_ACTIVE_IMPORTS = 25;

/**
 * Sandbox convention: any address at this domain is globally suppressed, so tests can produce a
 * rejected contact whose email is syntactically valid.
 */
export const GLOBALLY_SUPPRESSED_DOMAIN = 'suppressed.example';

export interface ImportReference {
  contactId: number;
  identifiers: { email?: string; mobileNumber?: string };
}

export interface ImportFailure {
  contactId?: number;
  matchIdentifier: string;
  identifiers: Record<string, unknown>;
  failures: Array<{ failureCode: string; description: string }>;
}

/** DD-OAS `inline_response_200_2` once finished. */
export interface FinishedImport {
  importId: string;
  status: 'Finished';
  summary: {
    newContacts: number;
    updatedContacts: number;
    globallySuppressed: number;
    invalidEntries: number;
    duplicateIdentifiers: number;
  };
  created: ImportReference[];
  updated: ImportReference[];
  failures: ImportFailure[];
}

export type ImportStatus = { importId: string; status: 'NotFinished' } | FinishedImport;

interface ImportJob {
  readonly importId: string;
  readonly seq: number;
  readonly readyAt: number;
  readonly mergeOption: MergeOption;
  readonly contacts: readonly unknown[];
  /** Schema errors of each contact (by index), pointers relative to that contact. */
  readonly schemaErrors: ReadonlyMap<number, ErrorObject[]>;
  timer: NodeJS.Timeout | undefined;
  result: FinishedImport | undefined;
}

export class ImportQueue {
  private readonly jobs = new Map<string, ImportJob>();
  private seq = 0;

  constructor(
    private readonly store: DotdigitalStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Imports accepted and not yet finished (after finishing the due ones). */
  activeCount(): number {
    this.settleDue();
    let n = 0;
    for (const job of this.jobs.values()) {
      if (job.result === undefined) {
        n++;
      }
    }
    return n;
  }

  accept(
    mergeOption: MergeOption,
    contacts: readonly unknown[],
    schemaErrors: ReadonlyMap<number, ErrorObject[]>,
    processingMs: number,
  ): string {
    const importId = randomUUID();
    const job: ImportJob = {
      importId,
      seq: this.seq++,
      readyAt: this.now() + processingMs,
      mergeOption,
      contacts,
      schemaErrors,
      timer: undefined,
      result: undefined,
    };
    this.jobs.set(importId, job);
    job.timer = setTimeout(() => this.settleDue(), processingMs);
    // A pending import must not keep a test process or `npm start` alive on its own.
    job.timer.unref();
    return importId;
  }

  status(importId: string): ImportStatus | undefined {
    this.settleDue();
    const job = this.jobs.get(importId);
    if (job === undefined) {
      return undefined;
    }
    return job.result ?? { importId, status: 'NotFinished' };
  }

  /** Finishes every import whose time has come, earliest deadline first. */
  settleDue(): void {
    const now = this.now();
    const due = [...this.jobs.values()]
      .filter((j) => j.result === undefined && j.readyAt <= now)
      .sort((a, b) => a.readyAt - b.readyAt || a.seq - b.seq);
    for (const job of due) {
      clearTimeout(job.timer);
      job.result = this.process(job);
    }
  }

  /** Stops the timers (the sandbox is closing). */
  close(): void {
    for (const job of this.jobs.values()) {
      clearTimeout(job.timer);
    }
  }

  private process(job: ImportJob): FinishedImport {
    const result: FinishedImport = {
      importId: job.importId,
      status: 'Finished',
      summary: {
        newContacts: 0,
        updatedContacts: 0,
        globallySuppressed: 0,
        invalidEntries: 0,
        duplicateIdentifiers: 0,
      },
      created: [],
      updated: [],
      failures: [],
    };
    // Identifiers already taken by an earlier contact of this import (email case-insensitively).
    const seen = new Set<string>();
    job.contacts.forEach((raw, index) => {
      const outcome = this.processContact(job, raw, index, seen);
      if ('failureCode' in outcome) {
        const entry = toFailure(raw, outcome);
        result.failures.push(entry);
        if (outcome.failureCode === 'duplicateIdentifier') {
          result.summary.duplicateIdentifiers++;
        } else if (outcome.failureCode === 'globallySuppressed') {
          result.summary.globallySuppressed++;
        } else {
          result.summary.invalidEntries++;
        }
      } else if (outcome.action === 'created') {
        result.created.push(outcome.reference);
        result.summary.newContacts++;
      } else {
        result.updated.push(outcome.reference);
        result.summary.updatedContacts++;
      }
    });
    return result;
  }

  /**
   * One contact, checked in this order: schema, match identifier, identifier syntax, duplicates
   * within the import, global suppression, then the write (which can fail on a missing contactId
   * or an identifier owned by another contact). Failure codes are the camelCase ones of the DD-OAS
   * examples (DD-4's table spells them PascalCase); `apiSchemaViolation`, `invalidContact` and
   * `idAlreadyExists` are sandbox spellings of DD-4's ApiSchemaViolation, InvalidContact and the
   * PATCH 409 code, for cases DD-OAS gives no example of.
   */
  private processContact(
    job: ImportJob,
    raw: unknown,
    index: number,
    seen: Set<string>,
  ): ContactFailure | { action: 'created' | 'updated'; reference: ImportReference } {
    const schemaErrors = job.schemaErrors.get(index);
    if (schemaErrors !== undefined) {
      const text = toDetails(schemaErrors, `/contacts/${index}`)
        .map((d) => `${d.item}: ${d.description}`)
        .join('; ');
      return failure('apiSchemaViolation', `The contact does not match the API schema: ${text}`);
    }
    const contact = raw as { matchIdentifier: string; identifiers: Record<string, unknown> };
    const matchIdentifier = contact.matchIdentifier;
    if (!isIdentifierName(matchIdentifier)) {
      return failure(
        'invalidMatchIdentifier',
        `'${matchIdentifier}' is not an identifier of this account (the sandbox defines no custom identifiers)`,
      );
    }
    if (contact.identifiers[matchIdentifier] === undefined) {
      return failure(
        'invalidMatchIdentifier',
        `The match identifier '${matchIdentifier}' has no value in identifiers`,
      );
    }
    const read = readIdentifiers(contact.identifiers);
    if (!read.ok) {
      const { problem } = read;
      const code =
        problem.kind === 'unknown'
          ? 'invalidContact'
          : problem.name === 'email'
            ? 'invalidEmail'
            : 'invalidPhoneNumber';
      const description =
        problem.kind === 'unknown'
          ? describeProblem(problem)
          : `Invalid value for '${problem.name}'`;
      return failure(code, description, this.contactIdOf(matchIdentifier, contact.identifiers));
    }
    const { identifiers } = read;
    const matchValue =
      matchIdentifier === 'contactId' ? read.contactId : identifiers[matchIdentifier];
    // readIdentifiers accepted the match value (or schema validation did, for contactId).
    const match = { identifier: matchIdentifier, value: matchValue as string | number };

    const keys: string[] = [];
    if (read.contactId !== undefined && matchIdentifier === 'contactId') {
      keys.push(`contactId:${read.contactId}`);
    }
    for (const name of ['email', 'mobileNumber'] as const) {
      const value = identifiers[name];
      if (value !== undefined) {
        keys.push(`${name}:${identifierKey(name, value)}`);
      }
    }
    const duplicate = keys.find((k) => seen.has(k));
    if (duplicate !== undefined) {
      const [name, ...rest] = duplicate.split(':');
      return failure(
        'duplicateIdentifier',
        `Duplicate identifier detected for ${name} '${rest.join(':')}'`,
        this.contactIdOf(matchIdentifier, contact.identifiers),
      );
    }
    for (const k of keys) {
      seen.add(k);
    }

    const domain = identifiers.email?.split('@')[1]?.toLowerCase();
    if (domain === GLOBALLY_SUPPRESSED_DOMAIN) {
      return failure(
        'globallySuppressed',
        `The email address '${identifiers.email}' is globally suppressed`,
        this.contactIdOf(matchIdentifier, contact.identifiers),
      );
    }

    const unknownFields = this.store.dataFields.unknown(
      (raw as Record<string, unknown>)['dataFields'] as Record<string, unknown> | undefined,
    );
    if (unknownFields.length > 0) {
      // DD-4 `InvalidContact` ("schema invalid"), camelCase like the DD-OAS examples.
      return failure(
        'invalidContact',
        `The data fields ${unknownFields.map((n) => `'${n}'`).join(', ')} do not exist in the account`,
        this.contactIdOf(matchIdentifier, contact.identifiers),
      );
    }
    const outcome = this.store.write(
      match,
      toContactWrite(raw as Record<string, unknown>, identifiers),
      job.mergeOption,
    );
    if (!outcome.ok) {
      return outcome.reason === 'contactNotFound'
        ? failure('contactNotFound', 'The contact could not be found')
        : failure(
            'idAlreadyExists',
            `The id value '${outcome.value}' for the identifier '${outcome.identifier}' already exists. All identifiers must be unique!`,
            this.contactIdOf(matchIdentifier, contact.identifiers),
          );
    }
    // An undeleted contact counts as updated, as PATCH answers 200 for it.
    return {
      action: outcome.action,
      reference: { contactId: outcome.contact.contactId, identifiers: outcome.contact.identifiers },
    };
  }

  /** The contact the match identifier points at, if it exists, for the failure entry. */
  private contactIdOf(
    matchIdentifier: IdentifierName,
    identifiers: Record<string, unknown>,
  ): number | undefined {
    const value = identifiers[matchIdentifier];
    if (typeof value !== 'string' && typeof value !== 'number') {
      return undefined;
    }
    return this.store.get(matchIdentifier, value)?.contactId;
  }
}

interface ContactFailure {
  failureCode: string;
  description: string;
  contactId: number | undefined;
}

function failure(failureCode: string, description: string, contactId?: number): ContactFailure {
  return { failureCode, description, contactId };
}

/** DD-OAS `inline_response_200_2_failures_1`; identifiers echoed as sent. */
function toFailure(raw: unknown, f: ContactFailure): ImportFailure {
  const contact = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const identifiers = contact['identifiers'];
  const entry: ImportFailure = {
    matchIdentifier:
      typeof contact['matchIdentifier'] === 'string' ? contact['matchIdentifier'] : '',
    identifiers:
      identifiers !== null && typeof identifiers === 'object' && !Array.isArray(identifiers)
        ? { ...(identifiers as Record<string, unknown>) }
        : {},
    failures: [{ failureCode: f.failureCode, description: f.description }],
  };
  if (f.contactId !== undefined) {
    return { contactId: f.contactId, ...entry };
  }
  return entry;
}
