import cliProgress from 'cli-progress';

export interface ProgressState {
  rows: number;
  /** Bytes of the file consumed. */
  bytes: number;
  /** Failed rows per provider (plus INPUT for rows refused before any provider). */
  failures: ReadonlyMap<string, number>;
}

export interface Progress {
  update(state: ProgressState): void;
  /** A line above the bar (or on its own when there is no bar). */
  log(line: string): void;
  stop(): void;
}

function failureText(failures: ReadonlyMap<string, number>): string {
  const parts = [...failures].filter(([, n]) => n > 0).map(([p, n]) => `${p} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/**
 * A bar on a terminal (rows, rate, ETA from the bytes read, failures per provider); plain lines
 * otherwise; nothing but logged lines when quiet. Everything goes to `stream` (stderr), so stdout
 * carries only the summary.
 */
export function createProgress(
  totalBytes: number,
  opts: { stream: NodeJS.WriteStream; quiet: boolean; now?: () => number },
): Progress {
  const now = opts.now ?? Date.now;
  const started = now();
  const rate = (rows: number) => {
    const s = (now() - started) / 1000;
    return s > 0 ? Math.round(rows / s) : 0;
  };
  if (opts.quiet) {
    return { update() {}, log: (line) => opts.stream.write(`${line}\n`), stop() {} };
  }
  if (!opts.stream.isTTY) {
    let last = -1;
    return {
      update(state) {
        if (state.bytes === last) {
          return;
        }
        last = state.bytes;
        const pct = totalBytes > 0 ? Math.floor((state.bytes / totalBytes) * 100) : 100;
        opts.stream.write(
          `import: ${state.rows} rows (${pct}%), ${rate(state.rows)} rows/s, failed: ${failureText(state.failures)}\n`,
        );
      },
      log: (line) => opts.stream.write(`${line}\n`),
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: opts.stream,
      format:
        '{bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted} | failed: {failures}',
      hideCursor: true,
      etaBuffer: 20,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(totalBytes, 1), 0, { rows: 0, rate: 0, failures: 'none' });
  return {
    update(state) {
      bar.update(state.bytes, {
        rows: state.rows,
        rate: rate(state.rows),
        failures: failureText(state.failures),
      });
    },
    log(line) {
      opts.stream.write(`\r\x1b[2K${line}\n`);
      bar.render();
    },
    stop() {
      bar.stop();
    },
  };
}
