import { packageProject } from '../../vitest.shared.ts';

/** `npm run demo` against `aitbc-node devnet`, both as real processes. */
export default packageProject('example-demo:e2e', {
  include: ['test/**/*.e2e.ts'],
  testTimeout: 240_000,
  hookTimeout: 60_000,
});
