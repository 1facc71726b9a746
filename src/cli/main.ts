import { stat } from 'node:fs/promises';
import { checkProviders, parseImportArgs, providerNames, UsageError, usage } from './args.js';
import { createImportClient } from './client.js';
import { formatSummary, runImport } from './import.js';
import { createProgress } from './progress.js';
import { hashFile } from './source.js';

/** Exit codes: 0 every row written, 1 some failed (or the gateway could not be used), 2 bad usage. */
export async function main(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): Promise<0 | 1 | 2> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${usage(await providerNames())}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'import') {
    process.stderr.write(
      `contact-gateway: unknown command "${command}" (only: import)\n\n${usage(await providerNames())}\n`,
    );
    return 2;
  }
  let parsed: ReturnType<typeof parseImportArgs>;
  try {
    parsed = parseImportArgs(rest, env);
    if (!parsed.help) {
      if (parsed.options.providers) {
        checkProviders(parsed.options.providers, await providerNames());
      }
      const s = await stat(parsed.options.file).catch(() => null);
      if (!s?.isFile()) {
        throw new UsageError(`no such file: ${parsed.options.file}`);
      }
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `contact-gateway import: ${err.message}\n(contact-gateway import --help for usage)\n`,
      );
      return 2;
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(`${usage(await providerNames())}\n`);
    return 0;
  }
  const options = parsed.options;
  const { sha256, size } = await hashFile(options.file);
  const progress = createProgress(size, { stream: process.stderr, quiet: options.quiet });
  progress.log(
    `import: ${options.file} (${size} bytes, sha256 ${sha256.slice(0, 12)}…) → ${options.url}, chunks of ${options.chunkSize}`,
  );
  const client = createImportClient({
    url: options.url,
    key: options.key,
    onRetry: (reason, ms) =>
      progress.log(`import: ${reason}; retrying in ${(ms / 1000).toFixed(1)} s`),
  });
  const summary = await runImport(options, { client, progress, fileSha256: sha256 });
  process.stdout.write(`${formatSummary(summary)}\n`);
  if (options.report && summary.failed > 0) {
    process.stdout.write(`failed rows and their errors: ${options.report}\n`);
  }
  return summary.failed > 0 || summary.stopped ? 1 : 0;
}
