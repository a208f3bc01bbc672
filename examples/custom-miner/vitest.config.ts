import { packageProject } from '../../vitest.shared.ts';

// Starts a node, the coordinator, the pool hub and a miner agent per test file: allow for a loaded machine.
export default packageProject('example-custom-miner', { testTimeout: 60_000, hookTimeout: 60_000 });
