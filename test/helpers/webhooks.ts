import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, verifySignature } from '../../src/lifecycle/webhooks.js';

/** A webhook event as the receiver got it, and whether its signature verified with the secret. */
export interface ReceivedEvent {
  verified: boolean;
  event: { id: string; type: string; data: { write: { id: string; status: string } } };
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port><path>`. */
  url(path: string): string;
  /** Every event accepted so far, in arrival order. */
  received: ReceivedEvent[];
  close(): Promise<void>;
}

/**
 * A webhook receiver on a loopback port that checks each event's signature against `secret`.
 * The first `refuse` deliveries are answered 503 (not recorded), the rest `status`.
 */
export async function startWebhookReceiver(
  secret: string,
  opts: { refuse?: number; status?: number } = {},
): Promise<WebhookReceiver> {
  const received: ReceivedEvent[] = [];
  let refuse = opts.refuse ?? 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      if (refuse > 0) {
        refuse -= 1;
        res.writeHead(503).end();
        return;
      }
      const header = req.headers[SIGNATURE_HEADER];
      received.push({
        verified: verifySignature(secret, body, typeof header === 'string' ? header : null),
        event: JSON.parse(body) as ReceivedEvent['event'],
      });
      res.writeHead(opts.status ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
