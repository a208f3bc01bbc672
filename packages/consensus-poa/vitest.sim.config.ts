import { packageProject } from '../../vitest.shared.ts';

/**
 * The seeded consensus simulator: 500 seeds split over two files (two workers). About 20 s of CPU per
 * file; the timeout is generous because a shared, overloaded CI machine stretches wall time.
 */
export default packageProject('consensus-poa:sim', { include: ['test/**/*.sim.ts'], testTimeout: 900_000 });
