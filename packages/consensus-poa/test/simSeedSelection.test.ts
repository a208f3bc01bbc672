import { describe, expect, it } from 'vitest';
import { RANDOM_SEEDS, simSeedSelection } from './simSeedSelection.js';

describe('the seeds of the random sim file (AITBC_SIM_SEEDS)', () => {
  it('draws a fresh range above the fixed seeds when unset, and names the variable that replays it', () => {
    const a = simSeedSelection(undefined);
    expect(a.seeds).toHaveLength(RANDOM_SEEDS);
    expect(a.seeds[0]).toBeGreaterThanOrEqual(500);
    expect(a.seeds.at(-1)! - a.seeds[0]!).toBe(RANDOM_SEEDS - 1);
    const from = a.seeds[0]!;
    expect(a.description).toContain(`AITBC_SIM_SEEDS=${from}-${from + RANDOM_SEEDS}`);
    expect(simSeedSelection(`${from}-${from + RANDOM_SEEDS}`).seeds).toEqual(a.seeds);
  });

  it('takes a range (end excluded, as npm run sim -- --from --to) or a list', () => {
    expect(simSeedSelection('7970-7973').seeds).toEqual([7970, 7971, 7972]);
    expect(simSeedSelection(' 7970, 17538 ').seeds).toEqual([7970, 17538]);
  });

  it('refuses what it cannot read instead of running other seeds', () => {
    expect(() => simSeedSelection('12-5')).toThrow(/from < to/);
    expect(() => simSeedSelection('seven')).toThrow(/not a non-negative integer/);
    expect(() => simSeedSelection('1,-2')).toThrow(/not a non-negative integer/);
  });
});
