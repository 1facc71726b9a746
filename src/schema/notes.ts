import { PROVIDERS } from '../providers/registry.js';

/**
 * The places, by schema coordinate, where a shared description states one provider's own fact.
 * A provider gives its words for a place in its descriptor (`schemaNotes`); the description takes
 * the notes of every provider in registry order, and reads whole without any.
 */
export type SchemaNoteSite =
  | 'ContactInput.customFields'
  | 'Mutation.upsertContacts'
  | 'ProviderError.code'
  | 'ProviderOutcome.droppedFields'
  | 'ProviderOutcome.remoteId'
  | 'ProviderRecord.remoteId'
  | 'Write.importId'
  | 'WriteKind.IMPORT_POLL';

export type SchemaNotes = Partial<Record<SchemaNoteSite, string>>;

/** How a description takes its notes: between `open` and `close`, apart by `join`. */
interface NoteFormat {
  open?: string;
  close?: string;
  join?: string;
  /** The text without any note. @default '' */
  none?: string;
}

/** The providers' notes for `site`, formatted (`open` note `join` note … `close`). */
export function providerNotes(
  site: SchemaNoteSite,
  { open = ' (', close = ')', join = '; ', none = '' }: NoteFormat = {},
): string {
  const notes = PROVIDERS.flatMap((p) => {
    const note = (p.schemaNotes as SchemaNotes | undefined)?.[site];
    return note ? [note] : [];
  });
  return notes.length > 0 ? `${open}${notes.join(join)}${close}` : none;
}
