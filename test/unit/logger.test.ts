import { describe, expect, it } from 'vitest';
import { createLogger, scrubLogText, writeRequestLine } from '../../src/logger.js';

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
