import { packageProject } from '../../vitest.shared.ts';

/** Multi-process tests: the real `aitbc` executable spawned through tsx against real servers. */
export default packageProject('cli:e2e', { include: ['test/**/*.e2e.ts'], testTimeout: 60_000 });
