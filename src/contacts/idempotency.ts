import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { stringify } from 'safe-stable-stringify';
import type { IdempotencyStore } from '../store/idempotency.js';

const MAX_KEY_LENGTH = 255;

/**
 * Runs a write at most once per idempotency key. The same key with the same input replays the
 * first result without calling providers again; with a different input it is refused. Keys are
 * scoped by the caller (the API key's name; the anonymous caller is a scope of its own), so one
 * key's caller can neither replay nor block another's, and by operation and response path, so one
 * `Idempotency-Key` header can cover a document with several mutation fields. Dry runs are never
 * recorded.
 */
export function createIdempotencyGuard(store: IdempotencyStore, now: () => number = Date.now) {
  return async function withIdempotency<T>(
    key: string | null | undefined,
    scope: { owner: string | null; operation: string; path: string; args: unknown },
    run: () => Promise<T>,
  ): Promise<T> {
    if (!key) {
      return run();
    }
    if (key.length > MAX_KEY_LENGTH) {
      throw new GraphQLError(`idempotencyKey must be at most ${MAX_KEY_LENGTH} characters.`, {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    // Unambiguous whatever the parts hold (a key name or key may contain ':').
    const scoped = JSON.stringify([scope.owner, scope.operation, scope.path, key]);
    const fingerprint = createHash('sha256')
      .update(stringify(scope.args) ?? '')
      .digest('hex');
    const begun = await store.begin(scoped, fingerprint, now());
    switch (begun.state) {
      case 'replay':
        return begun.result as T;
      case 'conflict':
        throw new GraphQLError(
          'This idempotency key was already used with a different input; use a new key for a new write.',
          { extensions: { code: 'IDEMPOTENCY_CONFLICT' } },
        );
      case 'in_progress':
        throw new GraphQLError(
          'A write with this idempotency key is still running; retry shortly for its result.',
          { extensions: { code: 'IDEMPOTENCY_IN_PROGRESS' } },
        );
      default:
        break;
    }
    try {
      const result = await run();
      await store.complete(scoped, result, now());
      return result;
    } catch (err) {
      await store.abandon(scoped);
      throw err;
    }
  };
}

export type IdempotencyGuard = ReturnType<typeof createIdempotencyGuard>;
