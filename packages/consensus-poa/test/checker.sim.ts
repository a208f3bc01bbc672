import { describe, expect, it } from 'vitest';
import { runSimulation } from '../src/simulator.js';

describe('the simulator’s checker', () => {
  it('catches a fork when the fault assumption is broken (2 of 4 equal validators Byzantine)', async () => {
    for (const seed of [1, 2, 4]) {
      const r = await runSimulation({ seed, unsafe: { validators: 4, byzantine: 2 } });
      expect(r.violations.some((v) => v.startsWith('agreement:'))).toBe(true);
    }
  });
});
