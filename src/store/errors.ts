/**
 * The durable store (PostgreSQL) did not answer: it refused or dropped the connection, did not
 * connect within `DATABASE_CONNECT_TIMEOUT_MS`, or a statement ran past
 * `DATABASE_STATEMENT_TIMEOUT_MS`. Retryable: nothing the caller sent is wrong. A request that
 * meets it answers the GraphQL error `STORE_UNAVAILABLE` (`extensions.retryable: true`); the start
 * fails with its message. The message names the server without credentials and never quotes SQL.
 */
export class StoreUnavailableError extends Error {
  readonly retryable = true;
  /** What failed: `connect` (no connection within the bound), `statement` (no answer), `connection` (lost, refused). */
  readonly reason: 'connect' | 'statement' | 'connection';

  constructor(
    reason: StoreUnavailableError['reason'],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreUnavailableError';
    this.reason = reason;
  }
}

/**
 * SQLSTATE classes that say the server is unreachable or unable, not that the statement is wrong:
 * 08 connection exception, 53 insufficient resources (too many connections), 57 operator
 * intervention (statement timeout 57014, shutdown 57P01–57P03), 58 system error.
 */
const UNAVAILABLE_SQLSTATE_CLASSES = new Set(['08', '53', '57', '58']);

/** Messages of `pg` / `pg-pool` for a connection that timed out or broke (they carry no code). */
const CONNECT_TIMEOUT =
  /^(timeout expired|timeout exceeded when trying to connect|Connection terminated due to connection timeout)$/;
const STATEMENT_TIMEOUT = /^Query read timeout$/;
/** Messages of `pg` for a connection that ended or a pool that is closed. */
const CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end)/;

/**
 * What a `pg` error means for the caller: a {@link StoreUnavailableError} when the server could
 * not be reached or did not answer in time, else `null` (a SQL error: the statement's own problem,
 * left as it is so the stores can retry contention or report a bug).
 *
 * `isSqlError` tells a server-reported error (pg's `DatabaseError`, which has a SQLSTATE) from a
 * driver/socket one; socket errors (`ECONNREFUSED` …), pg's timeouts and its "connection
 * terminated" family are the store being unavailable, anything else is left as it is.
 */
export function classifyPgError(
  err: unknown,
  isSqlError: (err: unknown) => boolean,
  where: { server: string; connectTimeoutMs: number; statementTimeoutMs: number },
): StoreUnavailableError | null {
  if (err instanceof StoreUnavailableError) {
    return err;
  }
  if (!(err instanceof Error)) {
    return null;
  }
  if (isSqlError(err)) {
    const code = String((err as { code?: unknown }).code ?? '');
    if (code === '57014') {
      return new StoreUnavailableError(
        'statement',
        `PostgreSQL at ${where.server} did not complete a statement within ${where.statementTimeoutMs} ms (DATABASE_STATEMENT_TIMEOUT_MS)`,
        { cause: err },
      );
    }
    return UNAVAILABLE_SQLSTATE_CLASSES.has(code.slice(0, 2))
      ? new StoreUnavailableError(
          'connection',
          `PostgreSQL at ${where.server} is unavailable (SQLSTATE ${code})`,
          { cause: err },
        )
      : null;
  }
  const text = messageChain(err);
  if (text.some((m) => CONNECT_TIMEOUT.test(m))) {
    return new StoreUnavailableError(
      'connect',
      `PostgreSQL at ${where.server} did not answer within ${where.connectTimeoutMs} ms (DATABASE_CONNECT_TIMEOUT_MS)`,
      { cause: err },
    );
  }
  if (text.some((m) => STATEMENT_TIMEOUT.test(m))) {
    return new StoreUnavailableError(
      'statement',
      `PostgreSQL at ${where.server} did not answer a statement within ${where.statementTimeoutMs} ms (DATABASE_STATEMENT_TIMEOUT_MS)`,
      { cause: err },
    );
  }
  const code = (err as NodeJS.ErrnoException).code;
  const socketError = typeof code === 'string' && /^E[A-Z]+$/.test(code);
  if (!socketError && !text.some((m) => CONNECTION_LOST.test(m))) {
    return null;
  }
  return new StoreUnavailableError(
    'connection',
    `PostgreSQL at ${where.server} is unreachable${socketError ? ` (${code})` : ''}`,
    { cause: err },
  );
}

function messageChain(err: Error): string[] {
  const out: string[] = [];
  let current: unknown = err;
  for (let i = 0; i < 5 && current instanceof Error; i += 1) {
    out.push(current.message);
    current = current.cause;
  }
  return out;
}
