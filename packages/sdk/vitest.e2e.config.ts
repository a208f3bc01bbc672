import { packageProject } from '../../vitest.shared.ts';

/** Multi-process tests: miner agent processes killed with SIGKILL mid-job. */
export default packageProject('sdk:e2e', { include: ['test/**/*.e2e.ts'], testTimeout: 120_000 });
