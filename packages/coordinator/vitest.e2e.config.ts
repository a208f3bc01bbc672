import { packageProject } from '../../vitest.shared.ts';

/** Multi-process tests: coordinator processes killed with SIGKILL and restarted. */
export default packageProject('coordinator:e2e', { include: ['test/**/*.e2e.ts'], testTimeout: 120_000 });
