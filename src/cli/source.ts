import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type CsvError, parse } from 'csv-parse';

/** One record of the file: its fields, or why it could not be read. */
export type SourceRecord = {
  /** 1-based line of the file where the record ends (CSV) or sits (NDJSON). */
  line: number;
  /** Bytes of the file consumed so far (for progress). */
  bytes: number;
} & ({ fields: Record<string, unknown> } | { error: string });

/** SHA-256 of the file, streamed (never the whole file in memory), with its size. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Streams CSV records keyed by the header row. A malformed record is yielded as an error. */
export async function* readCsv(path: string, delimiter = ','): AsyncGenerator<SourceRecord> {
  const skipped: SourceRecord[] = [];
  const parser = createReadStream(path).pipe(
    parse({
      columns: true,
      bom: true,
      delimiter,
      info: true,
      skip_empty_lines: true,
      relax_column_count: false,
      skip_records_with_error: true,
    }),
  );
  parser.on('skip', (err: CsvError) => {
    const lines = Number((err as CsvError & { lines?: number }).lines ?? 0);
    skipped.push({ line: lines, bytes: 0, error: `unreadable CSV record: ${err.message}` });
  });
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { bytes: number; lines: number };
  }>) {
    while (skipped.length > 0) {
      yield { ...skipped.shift()!, bytes: info.bytes };
    }
    yield { line: info.lines, bytes: info.bytes, fields: record };
  }
  yield* skipped;
}

/** Streams NDJSON objects, one per line; blank lines are skipped. */
export async function* readNdjson(path: string): AsyncGenerator<SourceRecord> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let line = 0;
  let bytes = 0;
  for await (const text of lines) {
    line += 1;
    bytes += Buffer.byteLength(text) + 1;
    const trimmed = line === 1 ? text.replace(/^\uFEFF/, '').trim() : text.trim();
    if (trimmed === '') {
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      yield { line, bytes, error: `not JSON: ${(err as Error).message}` };
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { line, bytes, error: 'expected one JSON object per line' };
      continue;
    }
    yield { line, bytes, fields: value as Record<string, unknown> };
  }
}
