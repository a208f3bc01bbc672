import { packageProject } from '../../vitest.shared.ts';

/**
 * Browser tests: the built apps (globalSetup runs `vite build` once) served by the reference
 * node's web server over a real devnet, driven by headless Debian chromium through playwright-core.
 */
export default packageProject('web:e2e', {
  include: ['test/**/*.e2e.ts'],
  globalSetup: ['test/buildApps.ts'],
  testTimeout: 120_000,
  hookTimeout: 120_000,
});
