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
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
