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
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
