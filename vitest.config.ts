import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Vite prefers graphql's ESM build while type-graphql and Apollo require the
    // CommonJS one: two realms break instanceof checks. Use the one Node uses.
    alias: [
      { find: /^graphql$/, replacement: path.resolve(__dirname, 'node_modules/graphql/index.js') },
      // Its ESM build would pull graphql's .mjs files in beside the CommonJS ones.
      { find: /^graphql-query-complexity$/, replacement: path.resolve(__dirname, 'node_modules/graphql-query-complexity/dist/cjs/index.js') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // Each of the two forks runs file after file without starting afresh: the app's modules are loaded once a
    // fork instead of once a file (the whole suite 928 s → 758 s; README, Development). It holds while nothing
    // in test/ mocks a module and a test that fakes timers or spies on a shared object restores it.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // expect.poll waits this long by default (vitest's is 1 s): a browser or a busy CI machine can take longer
    // to show what a test waits for, and a passing poll returns as soon as it holds.
    expect: { poll: { timeout: 10_000 } },
    // `npm test` passes --coverage; a run of single files measures nothing.
    // Processes the tests spawn (dist/ builds) are not measured. See README, Development.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/entities/migrations/**'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // Statements at 80 %; the others a few points under what the suite measures (README, Development).
      thresholds: { statements: 80, branches: 70, functions: 85, lines: 85 },
    },
  },
});
