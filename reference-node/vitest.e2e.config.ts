import { packageProject } from '../vitest.shared.ts';

/** Multi-process tests: validator and follower processes on 127.0.0.1, killed and restarted. */
export default packageProject('reference-node:e2e', {
  include: ['test/**/*.e2e.ts'],
  testTimeout: 180_000,
  hookTimeout: 180_000,
});
