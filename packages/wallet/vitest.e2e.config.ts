import { packageProject } from '../../vitest.shared.ts';

/** Multi-process tests: a writer killed with SIGKILL mid-write. */
export default packageProject('wallet:e2e', { include: ['test/**/*.e2e.ts'], testTimeout: 120_000 });
