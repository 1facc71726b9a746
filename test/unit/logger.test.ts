import { describe, expect, it } from 'vitest';
import { scrubLogText } from '../../src/logger.js';

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
