import { createServer, type Server, Socket } from 'node:net';

/**
 * A loopback TCP proxy the test controls: `pause()` stops forwarding in both directions (bytes
 * are held, connections stay open, new ones are accepted but not connected on), as a paused or
 * frozen server looks to its clients; `resume()` delivers what was held and forwards again.
 */
export interface TcpProxy {
  readonly port: number;
  /** Most client connections open at once so far. */
  readonly peakConnections: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | null;
  /** Bytes held while paused, per direction. */
  toUpstream: Buffer[];
  toClient: Buffer[];
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let paused = false;
  let peak = 0;
  const pairs = new Set<Pair>();

  const connectUpstream = (pair: Pair) => {
    const upstream = new Socket();
    pair.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => {
      if (paused) {
        pair.toClient.push(chunk);
      } else {
        pair.client.write(chunk);
      }
    });
    upstream.on('error', () => pair.client.destroy());
    upstream.on('close', () => pair.client.destroy());
    upstream.connect(target.port, target.host, () => flush(pair));
  };

  const flush = (pair: Pair) => {
    if (pair.upstream && !pair.upstream.connecting) {
      for (const chunk of pair.toUpstream.splice(0)) {
        pair.upstream.write(chunk);
      }
    }
    for (const chunk of pair.toClient.splice(0)) {
      pair.client.write(chunk);
    }
  };

  const server: Server = createServer((client) => {
    const pair: Pair = { client, upstream: null, toUpstream: [], toClient: [] };
    pairs.add(pair);
    peak = Math.max(peak, pairs.size);
    client.on('data', (chunk: Buffer) => {
      if (paused || !pair.upstream || pair.upstream.connecting) {
        pair.toUpstream.push(chunk);
      } else {
        pair.upstream.write(chunk);
      }
    });
    client.on('error', () => pair.upstream?.destroy());
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (!paused) {
      connectUpstream(pair);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('proxy has no port');
  }
  return {
    port: address.port,
    get peakConnections() {
      return peak;
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const pair of pairs) {
        if (pair.upstream) {
          flush(pair);
        } else {
          connectUpstream(pair);
        }
      }
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
