import { packageProject } from '../../vitest.shared.ts';

/** Slow tests: miner agent processes killed with SIGKILL mid-job; the SDK bundle in headless Chromium. */
export default packageProject('sdk:e2e', { include: ['test/**/*.e2e.ts'], testTimeout: 120_000 });
