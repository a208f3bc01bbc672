import { packageProject } from '../../vitest.shared.ts';

/** Multi-process crash tests (SIGKILL during block import). */
export default packageProject('storage-level:e2e', { include: ['test/**/*.e2e.ts'], testTimeout: 240_000 });
