import { describe, expect, it } from 'vitest';
import { redactText } from '../../../src/http/redact.js';

describe('redactText', () => {
  it.each([
    ['postgres://app:hunter2@db:5432/prod', 'postgres://[redacted]@db:5432/prod'],
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def', 'Authorization: Bearer [redacted]'],
    ['Basic dXNlcjpwYXNz', 'Basic [redacted]'],
    ['GET /x?api_key=abc123&email=a@x.io', 'GET /x?api_key=[redacted]&email=a@x.io'],
    ['client_secret=s3cr3t', 'client_secret=[redacted]'],
    ['nothing to hide', 'nothing to hide'],
  ])('%s', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });
});
