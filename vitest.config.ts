import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql 16 ships .js and .mjs side by side; without this alias Pothos/Yoga and a test file can
  // load two copies and graphql throws "Duplicate graphql modules".
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['test/**/*.test.ts'],
    // `*.pg.test.ts` need a PostgreSQL server: they belong to the run with DATABASE_URL (.ci/run).
    exclude: [
      '**/node_modules/**',
      ...(process.env['DATABASE_URL'] ? [] : ['**/*.pg.test.ts']),
      // Browser tests need Chromium: `npm run test:browser` (vitest.browser.config.ts; .ci/run).
      'test/browser/**',
    ],
    pool: 'forks',
    // Test files of one worker share a process (loaded modules are reused between files). Every
    // test builds its own gateway.
    isolate: false,
    // Two workers on two cores: most files spend their time waiting on child processes, sandbox
    // latencies and retry waits, which the other worker overlaps (vitest's default is one fewer
    // than the cores: a single worker here).
    maxWorkers: 2,
    // Bounds for a hung test, not speed checks: the machine is shared, and under load starting a
    // gateway (embedded database, sandboxes) in a beforeAll has taken over 20 s.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
