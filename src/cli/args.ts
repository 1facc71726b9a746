import { parseArgs } from 'node:util';
import type { ProviderId } from '../model/contact.js';
import { MapError, parseMap, type Target } from './fields.js';

/**
 * The `Provider` enum's values, from the registry. The CLI is a GraphQL client: it loads the
 * registry (and with it the adapters) only where it needs the list, for its usage and `--providers`.
 */
export async function providerNames(): Promise<readonly ProviderName[]> {
  return (await import('../providers/registry.js')).PROVIDER_IDS;
}
export type ProviderName = ProviderId;

/** Default chunk: well under the gateway's MAX_BATCH_INPUTS (5000) and upstream-call budget. */
export const DEFAULT_CHUNK_SIZE = 500;
export const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';

/** The usage text, listing `providers`. */
export const usage = (
  providers: readonly string[],
) => `Usage: contact-gateway import <file.csv|file.ndjson> [options]
       npm run import -- <file.csv|file.ndjson> [options]

Upserts every row of the file through the gateway's upsertContacts, in chunks, each with an
idempotency key derived from the file's SHA-256 and the chunk number: rerunning the same command
after a crash resumes, and nothing is written twice.

Options:
  --url URL            GraphQL endpoint (default: $CONTACT_GATEWAY_URL or ${DEFAULT_URL})
  --key KEY            API key (default: $CONTACT_GATEWAY_KEY); never printed
  --providers A,B      providers to write to (${providers.join(', ')}); default: every enabled one
  --map col=field,…    map a column to a ContactInput field (address.city, emailConsent.status,
                       customFields.plan, …) or to - to ignore it; repeatable
  --report FILE        write each failed row with its errors to FILE (NDJSON)
  --format csv|ndjson  file format (default: from the extension; .ndjson/.jsonl → ndjson)
  --delimiter C        CSV delimiter (default ,)
  --chunk-size N       rows per request (default ${DEFAULT_CHUNK_SIZE}; at most the gateway's MAX_BATCH_INPUTS)
  --quiet              no progress output (the summary is still printed)
  -h, --help           this help

Exit codes: 0 every row written (or queued for delivery), 1 some rows failed or the gateway
could not be used, 2 bad usage (unknown option, missing file, bad --map).`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ImportOptions {
  file: string;
  url: string;
  key: string | undefined;
  providers: ProviderName[] | undefined;
  map: Map<string, Target>;
  report: string | undefined;
  format: 'csv' | 'ndjson';
  delimiter: string;
  chunkSize: number;
  quiet: boolean;
}

export type ParsedCommand = { help: true } | { help: false; options: ImportOptions };

/** Parses `import <file> [options]` (the leading `import` is optional). Throws UsageError. */
export function parseImportArgs(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): ParsedCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    return { help: true };
  }
  const rest = positionals[0] === 'import' ? positionals.slice(1) : positionals;
  if (rest.length === 0) {
    throw new UsageError('missing the file to import');
  }
  if (rest.length > 1) {
    throw new UsageError(`one file at a time (got ${rest.join(' ')})`);
  }
  const file = rest[0]!;
  const url = values.url ?? env['CONTACT_GATEWAY_URL'] ?? DEFAULT_URL;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new Error();
    }
  } catch {
    throw new UsageError(`--url must be an http(s) URL, got "${url}"`);
  }
  let providers: ProviderName[] | undefined;
  if (values.providers !== undefined) {
    providers = values.providers
      .split(',')
      .map((p) => p.trim().toUpperCase().replace(/-/g, '_'))
      .filter((p) => p !== '') as ProviderName[];
    providers = [...new Set(providers)];
  }
  let map: Map<string, Target>;
  try {
    map = parseMap(values.map ?? []);
  } catch (err) {
    if (err instanceof MapError) {
      throw new UsageError(`--map: ${err.message}`);
    }
    throw err;
  }
  const format = values.format ?? (/\.(nd)?jsonl?$/i.test(file) ? 'ndjson' : 'csv');
  if (format !== 'csv' && format !== 'ndjson') {
    throw new UsageError(`--format must be csv or ndjson, got "${format}"`);
  }
  const chunkSize =
    values['chunk-size'] === undefined ? DEFAULT_CHUNK_SIZE : Number(values['chunk-size']);
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 100_000) {
    throw new UsageError(`--chunk-size must be a whole number from 1 to 100000`);
  }
  const delimiter = values.delimiter ?? ',';
  if (delimiter.length !== 1) {
    throw new UsageError('--delimiter must be one character');
  }
  const key = values.key ?? env['CONTACT_GATEWAY_KEY'];
  return {
    help: false,
    options: {
      file,
      url,
      key: key === '' ? undefined : key,
      providers,
      map,
      report: values.report,
      format,
      delimiter,
      chunkSize,
      quiet: values.quiet ?? false,
    },
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      providers: { type: 'string' },
      map: { type: 'string', multiple: true },
      report: { type: 'string' },
      format: { type: 'string' },
      delimiter: { type: 'string' },
      'chunk-size': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Throws UsageError unless `providers` (from `--providers`) is a non-empty list of `known` ones. */
export function checkProviders(providers: readonly string[], known: readonly string[]): void {
  const unknown = providers.filter((p) => !known.includes(p));
  if (unknown.length > 0 || providers.length === 0) {
    throw new UsageError(
      `--providers takes a comma-separated list of ${known.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
    );
  }
}
