/**
 * The GraphQL operations the tests send, written once. A test names only what it reads back (the
 * selection); the operation, its arguments and its variables come from here.
 *
 * `options` is `$options` (a `WriteOptions` variable, declared only then) or a literal such as
 * `{ providers: [NOTIFUSE] }`. A variable a test does not pass is an argument not given, exactly
 * as if the document did not name it.
 */

const declare = (vars: string, options: string) =>
  options === '$options' ? `${vars}, $options: WriteOptions` : vars;

/** `upsertContact(input: $input, options)` selecting `select`. */
export function upsertOne(select: string, options = '$options'): string {
  return `mutation(${declare('$input: ContactInput!', options)}) {
  upsertContact(input: $input, options: ${options}) { ${select} } }`;
}

/** `upsertContacts(inputs: $inputs, options)` selecting `select`. */
export function upsertMany(select: string, options = '$options'): string {
  return `mutation(${declare('$inputs: [ContactInput!]!', options)}) {
  upsertContacts(inputs: $inputs, options: ${options}) { ${select} } }`;
}

/** `updateContact(id: $id, patch: $patch, options)` selecting `select`. */
export function updateOne(select: string, options = '$options'): string {
  return `mutation(${declare('$id: ID!, $patch: ContactInput!', options)}) {
  updateContact(id: $id, patch: $patch, options: ${options}) { ${select} } }`;
}

/** `contact(email: $email, id: $id, externalId: $externalId)` (give one) selecting `select`. */
export function readOne(select: string): string {
  return `query($email: String, $id: ID, $externalId: String) {
  contact(email: $email, id: $id, externalId: $externalId) { ${select} } }`;
}

/** `contacts(emails: $emails)` selecting `select`. */
export function readMany(select: string): string {
  return `query($emails: [String!]) { contacts(emails: $emails) { ${select} } }`;
}

/** An outcome as the provider tests read it: everything but the timing. */
export const OUTCOME = `provider status remoteId droppedFields attempts details request
    error { code message httpStatus retryable details }`;

/** A write payload's input errors. */
export const INPUT_ERRORS = 'errors { field code message }';

/** A batch's summary, all of it. */
export const SUMMARY = 'summary { total succeeded failed upstreamRequests }';

/** The selection of the provider tests' write payloads: `contact { <contact> }`, outcomes, errors. */
export function writePayload(contact: string, outcome = OUTCOME): string {
  return `${contact ? `contact { ${contact} }` : ''}
  outcomes { ${outcome} }
  ${INPUT_ERRORS}`;
}

/** One provider's upsert, batch upsert and update, all selecting `payload`. */
export function writeOperations(payload: string): {
  UPSERT: string;
  UPSERT_MANY: string;
  UPDATE: string;
} {
  return {
    UPSERT: upsertOne(payload),
    UPSERT_MANY: upsertMany(`items { ${payload} } ${SUMMARY}`),
    UPDATE: updateOne(payload),
  };
}

/** An outcome's `error` as the tests read it. */
export interface ErrorView {
  code: string;
  message: string;
  httpStatus: number | null;
  retryable: boolean;
  details: Record<string, unknown> | null;
}

/** One provider's outcome as the tests read it (select what you read; the rest stays unread). */
export interface OutcomeView<Request = Record<string, unknown>> {
  provider: string;
  status: string;
  remoteId: string | null;
  droppedFields: string[];
  attempts: number;
  durationMs: number;
  details: Record<string, unknown> | null;
  request: Request | null;
  error: ErrorView | null;
}

/** The example operations GraphiQL opens on and the README shows, in their order. */
export const EXAMPLE_OPERATIONS = [
  'UpsertOne',
  'UpsertBatch',
  'UpdateContact',
  'ReadBack',
  'DryRun',
  'FollowQueued',
] as const;
