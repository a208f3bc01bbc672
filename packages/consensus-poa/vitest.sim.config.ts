import { packageProject } from '../../vitest.shared.ts';

/**
 * The seeded consensus simulator: the fixed seeds 0–499 split over two files, the seeds that once
 * failed, and a fresh random range per run (`test/randomSeeds.sim.ts`, printed; `AITBC_SIM_SEEDS`
 * replays it). About 20 s of CPU per fixed file and 8 s for the random one; the timeout is generous
 * because a shared, overloaded CI machine stretches wall time.
 */
export default packageProject('consensus-poa:sim', { include: ['test/**/*.sim.ts'], testTimeout: 900_000 });
