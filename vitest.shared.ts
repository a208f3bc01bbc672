import { defaultServerConditions } from 'vite';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

/**
 * The vitest project definition every package uses: tests import sibling
 * packages from source through the `@aitbc/source` export condition, so
 * `npm test` needs no build.
 */
export function packageProject(name: string, overrides: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions: ['@aitbc/source', ...defaultServerConditions] },
    ssr: { resolve: { conditions: ['@aitbc/source', ...defaultServerConditions] } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      environment: 'node',
      testTimeout: 20_000,
      ...overrides,
    },
  });
}
