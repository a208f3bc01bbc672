import { packageProject } from '../vitest.shared.ts';

/**
 * The CI subset of the chaos campaign (`chaos/chaos.e2e.ts`): 4 validator processes under load, a few
 * faults, the checker's verdicts asserted. `npm run chaos` runs the whole campaign.
 */
export default packageProject('reference-node:chaos:e2e', {
  include: ['chaos/**/*.e2e.ts'],
  testTimeout: 300_000,
  hookTimeout: 120_000,
});
