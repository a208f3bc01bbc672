import { packageProject } from '../../vitest.shared.ts';

// Starts a node, the coordinator, the pool hub and a miner agent: allow for a loaded machine.
export default packageProject('example-quickstart', { testTimeout: 60_000, hookTimeout: 60_000 });
