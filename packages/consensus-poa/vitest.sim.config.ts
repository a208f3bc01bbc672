import { packageProject } from '../../vitest.shared.ts';

/** The seeded consensus simulator: 500 seeds split over two files (two workers). */
export default packageProject('consensus-poa:sim', { include: ['test/**/*.sim.ts'], testTimeout: 180_000 });
