import { describe, expect, it } from 'vitest';
import { runSimulation } from '../src/simulator.js';

/**
 * Seeds that once broke liveness within the fault budget (issue 21), with the scenario each seed
 * draws: if the simulator ever draws them differently, the scenario check fails first.
 */
const STUCK = [
  {
    seed: 7970,
    // v1 Byzantine, v2 crashed for good; v3 locks in round 0 of height 2 on a polka made of v2's, v1's
    // and its own prevotes, then restarts: the proof of its lock was in memory only, so neither it nor
    // v0 could ever prevote the value it re-proposed (stuck at round 32 of height 2).
    scenario: { powers: [2, 1, 1, 3], byzantine: 1, crashedForGood: 1 },
  },
  {
    seed: 17538,
    // No Byzantine, v3 crashed for good, 13 % loss: v2 timed round 0 out on precommits including
    // v3's, which v0 and v1 (restarted) never got; nobody relayed it, so they waited in round 0 forever
    // while v2 waited in round 1 (stuck at height 0).
    scenario: { powers: [4, 3, 2, 4], byzantine: 0, crashedForGood: 1 },
  },
] as const;

describe('consensus simulator: seeds that once got stuck within the fault budget', () => {
  for (const { seed, scenario } of STUCK)
    it(`seed ${seed} finalizes after the heal`, async () => {
      const r = await runSimulation({ seed });
      expect({ powers: r.powers, byzantine: r.byzantine, crashedForGood: r.crashedForGood }).toEqual(scenario);
      expect(r.violations).toEqual([]);
      expect(r.height).toBeGreaterThanOrEqual(2);
    });
});
