import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

export interface RawRequest {
  method: string;
  /** The request-target exactly as written on the wire (`//graphql`, `/./graphql`, `\graphql`). */
  target: string;
  /** Written as given, in order, duplicates kept; values may hold bytes no client would send. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: string;
  /** The Host header; `null` sends none. @default `127.0.0.1:<port>` */
  host?: string | null;
}

/**
 * One HTTP/1.1 request written byte for byte on its own connection and read until the server
 * closes it. `fetch` and `http.request` normalise paths (`/./graphql` → `/graphql`) or refuse
 * header values (NUL, CR); this does neither, so a test sees what an attacker's bytes get.
 */
export function rawRequest(port: number, req: RawRequest): Promise<RawResponse> {
  const body = Buffer.from(req.body ?? '', 'utf8');
  const lines = [
    `${req.method} ${req.target} HTTP/1.1`,
    ...(req.host === null ? [] : [`host: ${req.host ?? `127.0.0.1:${port}`}`]),
    'connection: close',
    ...(req.headers ?? []).map(([name, value]) => `${name}: ${value}`),
    ...(req.body === undefined ? [] : [`content-length: ${body.length}`]),
  ];
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer to ${req.target}`)));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(parse(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    // Not `end()`: a client that half-closes may have its request dropped before it is answered.
    socket.write(Buffer.concat([head, body]));
  });
}

function parse(raw: Buffer): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  if (split === -1) {
    throw new Error(`incomplete response: ${JSON.stringify(raw.toString('latin1'))}`);
  }
  const [statusLine = '', ...headerLines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) {
    throw new Error(`not an HTTP response: ${JSON.stringify(statusLine)}`);
  }
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let rest = raw.subarray(split + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = rest.indexOf('\r\n');
      const size = Number.parseInt(rest.subarray(0, eol).toString('latin1'), 16);
      if (!(size > 0)) {
        break;
      }
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      rest = rest.subarray(eol + 2 + size + 2);
    }
    rest = Buffer.concat(parts);
  }
  return { status, headers, body: rest.toString('utf8') };
}

/** `target` with `query` added to its query string (before any fragment). */
export function withQuery(target: string, query: string): string {
  const hash = target.indexOf('#');
  const base = hash === -1 ? target : target.slice(0, hash);
  const fragment = hash === -1 ? '' : target.slice(hash);
  return `${base}${base.includes('?') ? '&' : '?'}${query}${fragment}`;
}
