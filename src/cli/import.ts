import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { ImportOptions } from './args.js';
import { GatewayError, type ImportClient, type ItemResult } from './client.js';
import { createRowMapper } from './fields.js';
import type { Progress } from './progress.js';
import { readCsv, readNdjson, type SourceRecord } from './source.js';

/** Counts of one provider's outcomes over the import. */
export interface ProviderTally {
  CREATED: number;
  UPDATED: number;
  QUEUED: number;
  FAILED: number;
  SKIPPED: number;
}

export interface ImportSummary {
  rows: number;
  /** Rows every targeted provider took (CREATED, UPDATED or QUEUED). */
  written: number;
  failed: number;
  /** Rows refused before any provider (unreadable, bad value, gateway InputError). */
  inputErrors: number;
  chunks: number;
  providers: Map<string, ProviderTally>;
  elapsedMs: number;
  /** Set when the import stopped before the end of the file. */
  stopped?: string;
}

interface PendingRow {
  line: number;
  fields: Record<string, unknown>;
  input: Record<string, unknown>;
}

interface FailedRow {
  line: number;
  record?: Record<string, unknown>;
  errors: Array<{ provider?: string; code: string; field?: string; message: string }>;
}

/**
 * The idempotency key prefix of one import: the file's hash and every setting that shapes what is
 * sent (a rerun with the same file and flags reuses the keys, so the gateway replays written chunks).
 */
export function importId(fileSha256: string, options: ImportOptions): string {
  const settings = JSON.stringify([
    fileSha256,
    options.format,
    options.delimiter,
    options.chunkSize,
    options.providers ?? null,
    [...options.map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ]);
  return createHash('sha256').update(settings).digest('hex').slice(0, 32);
}

export function chunkKey(id: string, chunk: number): string {
  return `contact-gateway-import:${id}:${chunk}`;
}

/** Streams the file through the gateway chunk by chunk; never holds more than one chunk. */
export async function runImport(
  options: ImportOptions,
  deps: {
    client: ImportClient;
    progress: Progress;
    fileSha256: string;
    now?: () => number;
  },
): Promise<ImportSummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const id = importId(deps.fileSha256, options);
  const mapper = createRowMapper(options.map);
  const summary: ImportSummary = {
    rows: 0,
    written: 0,
    failed: 0,
    inputErrors: 0,
    chunks: 0,
    providers: new Map((options.providers ?? []).map((p) => [p, tally()])),
    elapsedMs: 0,
  };
  const failures = new Map<string, number>();
  let report: WriteStream | null = null;
  let bytes = 0;

  // Failed rows wait for their chunk's answer, so that the report follows the file's order.
  let failedRows: FailedRow[] = [];
  const flushFailures = async () => {
    const rows = failedRows.sort((a, b) => a.line - b.line);
    failedRows = [];
    if (!options.report) {
      return;
    }
    for (const row of rows) {
      report ??= createWriteStream(options.report, { flags: 'w' });
      if (!report.write(`${JSON.stringify(row)}\n`)) {
        await once(report, 'drain');
      }
    }
  };
  const fail = async (row: FailedRow) => {
    summary.failed += 1;
    failedRows.push(row);
    if (failedRows.length >= options.chunkSize) {
      await flushFailures();
    }
  };
  const inputFailure = async (row: FailedRow) => {
    summary.inputErrors += 1;
    failures.set('INPUT', (failures.get('INPUT') ?? 0) + 1);
    await fail(row);
  };
  const settle = async (rows: PendingRow[], items: ItemResult[]) => {
    for (const [i, item] of items.entries()) {
      const row = rows[i]!;
      if (item.errors.length > 0) {
        await inputFailure({
          line: row.line,
          record: row.fields,
          errors: item.errors.map((e) => ({
            code: e.code,
            field: e.field.replace(/^inputs\.\d+\./, ''),
            message: e.message,
          })),
        });
        continue;
      }
      const errors: FailedRow['errors'] = [];
      for (const o of item.outcomes) {
        let t = summary.providers.get(o.provider);
        if (!t) {
          t = tally();
          summary.providers.set(o.provider, t);
        }
        if (o.status in t) {
          t[o.status as keyof ProviderTally] += 1;
        }
        if (o.status === 'FAILED' || o.status === 'SKIPPED') {
          failures.set(o.provider, (failures.get(o.provider) ?? 0) + 1);
          errors.push({
            provider: o.provider,
            code: o.error?.code ?? o.status,
            message: o.error?.message ?? o.status,
          });
        }
      }
      if (errors.length > 0) {
        await fail({ line: row.line, record: row.fields, errors });
      } else {
        summary.written += 1;
      }
    }
  };

  let chunk: PendingRow[] = [];
  const send = async () => {
    if (chunk.length === 0) {
      return;
    }
    const rows = chunk;
    chunk = [];
    summary.chunks += 1;
    const items = await deps.client.upsert(
      rows.map((r) => r.input),
      { idempotencyKey: chunkKey(id, summary.chunks), providers: options.providers },
    );
    await settle(rows, items);
    await flushFailures();
    deps.progress.update({ rows: summary.rows, bytes, failures });
  };

  const records: AsyncIterable<SourceRecord> =
    options.format === 'ndjson'
      ? readNdjson(options.file)
      : readCsv(options.file, options.delimiter);
  let warned = false;
  try {
    for await (const rec of records) {
      summary.rows += 1;
      bytes = Math.max(bytes, rec.bytes);
      if ('error' in rec) {
        await inputFailure({
          line: rec.line,
          errors: [{ code: 'UNREADABLE', message: rec.error }],
        });
        continue;
      }
      const mapped = mapper.map(rec.fields);
      if (!warned) {
        warned = true;
        if (mapper.unmapped.size > 0) {
          deps.progress.log(
            `import: ignoring column(s) that name no Contact field: ${[...mapper.unmapped].join(', ')} (map them with --map column=field)`,
          );
        }
      }
      if ('errors' in mapped) {
        await inputFailure({
          line: rec.line,
          record: rec.fields,
          errors: mapped.errors.map((message) => ({ code: 'INVALID_VALUE', message })),
        });
        continue;
      }
      chunk.push({ line: rec.line, fields: rec.fields, input: mapped.input });
      if (chunk.length >= options.chunkSize) {
        await send();
      }
    }
    await send();
  } catch (err) {
    if (!(err instanceof GatewayError)) {
      throw err;
    }
    summary.stopped =
      err.code === 'TOO_MANY_ITEMS'
        ? `${err.message}: lower --chunk-size (now ${options.chunkSize}) to the gateway's MAX_BATCH_INPUTS`
        : `chunk ${summary.chunks}: ${err.message}`;
  } finally {
    await flushFailures();
    deps.progress.update({ rows: summary.rows, bytes, failures });
    deps.progress.stop();
    if (report) {
      const r: WriteStream = report;
      await new Promise<void>((resolve, reject) =>
        r.end((e?: Error | null) => (e ? reject(e) : resolve())),
      );
    } else if (options.report) {
      // An empty report says "nothing failed" rather than leaving an old one behind.
      createWriteStream(options.report, { flags: 'w' }).end();
    }
  }
  summary.elapsedMs = now() - started;
  return summary;
}

function tally(): ProviderTally {
  return { CREATED: 0, UPDATED: 0, QUEUED: 0, FAILED: 0, SKIPPED: 0 };
}

/** The summary table printed at the end. */
export function formatSummary(s: ImportSummary): string {
  const seconds = s.elapsedMs / 1000;
  const lines = [
    `rows ${s.rows}, written ${s.written}, failed ${s.failed} (input errors ${s.inputErrors}), ${s.chunks} chunk(s), ${seconds.toFixed(1)} s, ${seconds > 0 ? Math.round(s.rows / seconds) : s.rows} rows/s`,
  ];
  if (s.providers.size > 0) {
    const header = ['provider', 'created', 'updated', 'queued', 'failed', 'skipped'];
    const body = [...s.providers].map(([p, t]) => [
      p,
      String(t.CREATED),
      String(t.UPDATED),
      String(t.QUEUED),
      String(t.FAILED),
      String(t.SKIPPED),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const fmt = (r: string[]) =>
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    lines.push(fmt(header), ...body.map(fmt));
  }
  if (s.stopped) {
    lines.push(
      `stopped early: ${s.stopped}`,
      'rerun the same command to resume (written chunks are replayed, not written again)',
    );
  }
  return lines.join('\n');
}
