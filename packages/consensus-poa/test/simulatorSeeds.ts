import { expect, it } from 'vitest';
import { runSeedRange, runSimulation, type SimulationResult } from '../src/simulator.js';

/** Runs seeds `from` … `to - 1` and checks that none breaks an invariant and that the faults really happened. */
export function simulateSeeds(from: number, to: number): void {
  it(`seeds ${from}…${to - 1}: agreement, validity, liveness after healing, evidence for every equivocation seen`, async () => {
    const summary = await runSeedRange(from, to);
    const failing = summary.results
      .filter((r) => r.violations.length > 0)
      .map((r) => ({ seed: r.seed, violations: r.violations }));
    expect(failing).toEqual([]);
    expect(summary.seeds).toBe(to - from);
    // Every run finalized blocks, and the fault model was exercised.
    expect(summary.results.every((r) => r.height >= 2)).toBe(true);
    expect(summary.results.filter((r) => r.byzantine > 0).length).toBeGreaterThan((to - from) / 5);
    expect(summary.results.reduce((s, r) => s + r.equivocations, 0)).toBeGreaterThan(0);
    expect(summary.results.reduce((s, r) => s + r.evidence, 0)).toBeGreaterThan(0);
    expect(summary.results.filter((r) => r.crashedForGood > 0).length).toBeGreaterThan(0);
    expect(summary.results.some((r) => r.maxRound > 0)).toBe(true);
    expect(new Set(summary.results.map((r) => r.validators)).size).toBe(10);
  });

  it(`seed ${from} replays exactly`, async () => {
    expect(await runSimulation({ seed: from })).toEqual(await runSimulation({ seed: from }));
  });
}

/** Runs the given seeds (any, e.g. a random range) and checks that none breaks an invariant. */
export function simulateSeedList(seeds: readonly number[]): void {
  it(`${seeds.length} seeds: agreement, validity, liveness after healing, evidence for every equivocation seen`, async () => {
    const results: SimulationResult[] = [];
    for (const seed of seeds) {
      results.push(await runSimulation({ seed }));
      await new Promise<void>((resolve) => setImmediate(resolve)); // let the worker answer its runner
    }
    const failing = results
      .filter((r) => r.violations.length > 0)
      .map((r) => ({ seed: r.seed, violations: r.violations }));
    expect(failing).toEqual([]);
    expect(results.every((r) => r.height >= 2)).toBe(true);
  });
}
