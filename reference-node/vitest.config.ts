import { packageProject } from '../vitest.shared.ts';

// The README example and the CLI tests load the whole node (every package) in a fresh module graph:
// allow for a loaded 2-core machine.
export default packageProject('reference-node', { testTimeout: 60_000 });
