import { defineConfig } from 'vitest/config';

/**
 * Root test configuration. Every package is its own vitest project (see each
 * package's `vitest.config.ts`); slow multi-process suites live in projects
 * whose names end in `:e2e` and run after the fast ones, still under `npm test`.
 */
export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest*.config.ts',
      '*/vitest*.config.ts',
      'examples/*/vitest*.config.ts',
      'apps/*/vitest*.config.ts',
    ],
  },
});
