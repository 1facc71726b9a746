import { EventEmitter, once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, LineBatcher, scrubLogText, writeRequestLine } from '../../src/logger.js';

describe('scrubLogText', () => {
  it('returns text no pattern can match as it is', () => {
    const text = 'request done in 12 ms (status 200, provider NOTIFUSE)';
    expect(scrubLogText(text)).toBe(text);
  });

  it('still scrubs every kind of secret and PII', () => {
    const out = scrubLogText(
      'to https://u:p@db.example.com Bearer abc.def Basic dXNlcjpw api_key=s3cret ann@example.com +447700900123',
    );
    expect(out).not.toMatch(/u:p@|abc\.def|dXNlcjpw|s3cret|ann@example\.com|447700900123/);
    expect(out).toContain('[email pii:');
    expect(out).toContain('[phone pii:');
  });
});

describe('writeRequestLine', () => {
  const capture = () => {
    const lines: string[] = [];
    const logger = createLogger('info', {
      write: (l: string) => lines.push(l),
    } as unknown as NodeJS.WritableStream);
    return { logger, lines };
  };
  const withoutTime = (line: string) => {
    const { time, ...rest } = JSON.parse(line) as Record<string, unknown>;
    expect(typeof time).toBe('number');
    return rest;
  };

  it('writes the line the request child logger would, scrubbed the same way', () => {
    const line = {
      method: 'POST',
      path: '/contacts/ann@example.com',
      status: 404,
      durationMs: 1.5,
      keyName: 'ci',
      operationName: 'Upsert',
    };
    for (const ids of [{ requestId: 'r-1' }, { requestId: 'r-2', traceId: 'ab'.repeat(16) }]) {
      const fast = capture();
      expect(writeRequestLine(fast.logger, ids, line)).toBe(true);
      const slow = capture();
      slow.logger.child(ids).info(line, 'request');
      expect(fast.lines).toHaveLength(1);
      expect(fast.lines[0]).toMatch(/\n$/);
      expect(withoutTime(fast.lines[0]!)).toEqual(withoutTime(slow.lines[0]!));
      // Same keys in the same order as pino writes them.
      expect(Object.keys(JSON.parse(fast.lines[0]!))).toEqual(
        Object.keys(JSON.parse(slow.lines[0]!)),
      );
      expect(fast.lines[0]).not.toContain('ann@example.com');
    }
  });

  it('writes an anonymous caller as null and leaves out a missing operation name', () => {
    const { logger, lines } = capture();
    writeRequestLine(
      logger,
      { requestId: 'r-3' },
      { method: 'GET', path: '/x', status: 404, durationMs: 0, keyName: null, operationName: null },
    );
    expect(withoutTime(lines[0]!)).toEqual({
      level: 30,
      service: 'contact-gateway',
      requestId: 'r-3',
      method: 'GET',
      path: '/x',
      status: 404,
      durationMs: 0,
      keyName: null,
      msg: 'request',
    });
  });

  it('leaves loggers it did not make to the caller', () => {
    const { logger } = capture();
    const line = {
      method: 'GET',
      path: '/',
      status: 200,
      durationMs: 1,
      keyName: null,
      operationName: null,
    };
    expect(writeRequestLine(logger.child({ x: 1 }), { requestId: 'r' }, line)).toBe(false);
  });
});

describe('LineBatcher (stdout batches)', () => {
  const sink = () => {
    const writes: string[] = [];
    let syncFlushes = 0;
    let flushes = 0;
    return {
      writes,
      get syncFlushes() {
        return syncFlushes;
      },
      get flushes() {
        return flushes;
      },
      write: (data: string) => writes.push(data),
      flush: (cb?: () => void) => {
        flushes += 1;
        cb?.();
      },
      flushSync: () => {
        syncFlushes += 1;
      },
    };
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('hands lines on as one write, in order, once the first has waited flushMs', async () => {
    const s = sink();
    const batcher = new LineBatcher(s, 10_000, 30);
    batcher.write('a\n');
    batcher.write('b\n');
    expect(s.writes).toEqual([]);
    await sleep(60);
    batcher.write('c\n');
    expect(s.writes).toEqual(['a\nb\n']);
    await sleep(60);
    expect(s.writes).toEqual(['a\nb\n', 'c\n']);
  });

  it('hands a batch on at once when it reaches batchBytes', () => {
    const s = sink();
    const batcher = new LineBatcher(s, 8, 10_000);
    batcher.write('1234\n');
    expect(s.writes).toEqual([]);
    batcher.write('5678\n');
    expect(s.writes).toEqual(['1234\n5678\n']);
  });

  it('writes nothing while idle (no timer left running after a batch)', async () => {
    const s = sink();
    const batcher = new LineBatcher(s, 10_000, 10);
    batcher.write('one\n');
    await sleep(30);
    expect(s.writes).toEqual(['one\n']);
    expect(s.flushes).toBe(1);
    await sleep(60);
    // Not even an empty flush (sonic-boom's periodicFlush wrote an empty string every period).
    expect(s.writes).toEqual(['one\n']);
    expect(s.flushes).toBe(1);
  });

  it('flushSync hands on what is held and writes it synchronously', () => {
    const s = sink();
    const batcher = new LineBatcher(s, 10_000, 10_000);
    batcher.write('held\n');
    batcher.flushSync();
    expect(s.writes).toEqual(['held\n']);
    expect(s.syncFlushes).toBe(1);
  });

  it('a batch flushed while the sink was still writing is written once that write ends', async () => {
    // A sink that behaves as sonic-boom with minLength: it buffers, `flush` starts a write only
    // when none is running, and a write that ends with less than minLength left stops ('drain').
    // Its writes end when the test says so (`finish`), not after a time: no race with a busy machine.
    class SlowSink extends EventEmitter {
      written = '';
      /** The chunk being written, or null. */
      writing: string | null = null;
      #buffered = '';
      write(data: string) {
        this.#buffered += data;
      }
      flush() {
        if (this.writing !== null || this.#buffered === '') {
          return;
        }
        this.writing = this.#buffered;
        this.#buffered = '';
        this.emit('started');
      }
      finish() {
        const chunk = this.writing!;
        this.writing = null;
        this.written += chunk;
        this.emit('write', Buffer.byteLength(chunk));
        this.emit('drain');
      }
      flushSync() {}
    }
    const s = new SlowSink();
    const batcher = new LineBatcher(s, 10_000, 10);
    const started = once(s, 'started');
    batcher.write('a\n');
    await started; // a's batch handed on (its 10 ms timer) and its write started
    batcher.write('b\n');
    await sleep(40); // b's batch's timer fired while a's write runs: that flush started nothing
    expect(s.writing).toBe('a\n');
    expect(s.written).toBe('');
    s.finish(); // a's write ends ('drain'): b's batch is handed on
    for (let i = 0; i < 100 && s.writing === null; i += 1) {
      await sleep(5);
    }
    expect(s.writing).toBe('b\n');
    s.finish();
    expect(s.written).toBe('a\nb\n');
  });

  describe('on sonic-boom (the default stdout sink) writing to a file', () => {
    const dirs: string[] = [];
    afterEach(() => {
      for (const dir of dirs.splice(0)) {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    /** A batcher (10,000-unit batches) over sonic-boom with minLength 10,000, as createLogger builds it. */
    const open = async (flushMs: number) => {
      const dir = mkdtempSync(join(tmpdir(), 'cg-log-'));
      dirs.push(dir);
      const file = join(dir, 'out.log');
      const sonic = pino.destination({ dest: file, sync: false, minLength: 10_000 });
      await new Promise<void>((resolve) => sonic.once('ready', () => resolve()));
      const read = () => (existsSync(file) ? readFileSync(file, 'utf8') : '');
      return { batcher: new LineBatcher(sonic, 10_000, flushMs), sonic, read };
    };

    it('a batch smaller than minLength is written once its timer fires', async () => {
      const { batcher, sonic, read } = await open(20);
      batcher.write('a\n');
      batcher.write('b\n');
      await sleep(120);
      expect(read()).toBe('a\nb\n');
      sonic.destroy();
    });

    it('flushSync (the exit path) writes held lines before it returns', async () => {
      const { batcher, sonic, read } = await open(10_000);
      batcher.write('first\n');
      batcher.write('second\n');
      batcher.flushSync();
      expect(read()).toBe('first\nsecond\n');
      sonic.destroy();
    });
  });

  it('carries a logger: its lines reach the sink in order', async () => {
    const s = sink();
    const logger = createLogger(
      'info',
      new LineBatcher(s, 10_000, 10) as unknown as NodeJS.WritableStream,
    );
    logger.info('first');
    logger.info('second');
    await sleep(40);
    const lines = s.writes.join('').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['first', 'second']);
  });
});
