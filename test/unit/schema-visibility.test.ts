import { describe, expect, it } from 'vitest';
import { ANONYMOUS_CALLER, type Scope } from '../../src/auth/scopes.js';
import type { GraphQLContext } from '../../src/context.js';
import { visibleDetails } from '../../src/schema/visibility.js';

const as = (scopes: Scope[]) =>
  ({
    caller: { ...ANONYMOUS_CALLER, keyName: 'k', scopes: new Set(scopes) },
  }) as unknown as GraphQLContext;

describe('visibleDetails', () => {
  const details = {
    batchSize: 3,
    importId: 'i-1',
    lastSeenAt: '2024-01-01T00:00:00Z',
    echo: 'a@b.c',
  };
  it('keeps everything for contacts:read', () => {
    expect(visibleDetails(details, as(['contacts:read', 'contacts:write']))).toBe(details);
  });
  it('keeps only operational keys for a write-only key, null when none is left', () => {
    expect(visibleDetails(details, as(['contacts:write']))).toEqual({
      batchSize: 3,
      importId: 'i-1',
    });
    expect(visibleDetails({ lastSeenAt: 'x' }, as(['contacts:write']))).toBeNull();
    expect(visibleDetails(null, as(['contacts:write']))).toBeNull();
    // Provider error details: rate-limit facts stay, item texts that may quote the contact go.
    expect(
      visibleDetails(
        { retryAfterMs: 1000, rateLimitLimit: 10, items: ['a@b.c already exists'] },
        as(['contacts:write']),
      ),
    ).toEqual({ retryAfterMs: 1000, rateLimitLimit: 10 });
  });
});
