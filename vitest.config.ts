import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // dist/ is built once, before any file runs, for the tests of the built package.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Suites bind real sockets on 127.0.0.1; files run in parallel, tests inside a file in order.
    pool: 'forks',
  },
});
