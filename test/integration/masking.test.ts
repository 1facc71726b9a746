import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startSandboxes } from '../../src/sandbox-mode.js';
import { createMemoryIdentityStore } from '../../src/store/identity.js';

describe('error masking', () => {
  it('masks an unexpected failure: no internal message, no secret, a code', async () => {
    const sandboxes = await startSandboxes(loadConfig({}));
    const lines: string[] = [];
    const store = createMemoryIdentityStore();
    store.claim = () =>
      Promise.reject(new Error('connect failed for postgres://app:hunter2@db/prod'));
    const gateway = createGateway(sandboxes.config, {
      store,
      logger: createLogger('info', {
        write: (l: string) => lines.push(l),
      } as unknown as NodeJS.WritableStream),
    });
    try {
      const res = await gateway.yoga.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation { upsertContact(input: { email: "m@example.com" }) { contact { id } } }',
        }),
      });
      const body = await res.text();
      expect(JSON.parse(body)).toMatchObject({
        data: null,
        errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
      expect(body).not.toContain('hunter2');
      const log = lines.join('\n');
      expect(log).toContain('connect failed for postgres://[redacted]@db/prod');
      expect(log).not.toContain('hunter2');
      expect(log).not.toContain('sandbox-notifuse-api-key');
    } finally {
      await gateway.close();
      await sandboxes.close();
    }
  });
});
