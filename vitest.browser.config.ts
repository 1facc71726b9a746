import { defineConfig } from 'vitest/config';

/**
 * The browser tests (`npm run test:browser`): GraphiQL in Debian's Chromium driven by
 * puppeteer-core. Kept out of `npm test`, which needs nothing installed beyond `npm ci`; .ci/run
 * installs Chromium and runs them. Without a browser they fail with a message, never skip.
 */
export default defineConfig({
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['test/browser/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
