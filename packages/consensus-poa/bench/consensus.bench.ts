/**
 * Consensus benchmarks on the simulator's virtual clock (real signing, verification, block building
 * and chain-core import for every validator): time to finality in message delays after the proposal
 * (best case 3), and the CPU cost of one height for the whole network of 4, 7 and 10 validators.
 */
import { type BenchResult, emit } from '../../../bench/harness.ts';
import { runSteadyNetwork } from '../src/simulator.js';

const rows: BenchResult[] = [];
for (const validators of [4, 7, 10]) {
  const samples: number[] = [];
  let first = 0;
  let all = 0;
  for (let s = 0; s < 3; s++) {
    const r = await runSteadyNetwork({ validators, heights: 30 });
    samples.push(r.cpuMs / r.heights);
    first = r.firstCommitDelays.reduce((a, b) => a + b, 0) / r.heights;
    all = Math.max(...r.allCommitDelays);
  }
  const msPerHeight = samples.sort((a, b) => a - b)[1]!;
  rows.push({
    group: 'consensus-poa',
    name: `${validators} validators: heights/s (whole network in one process)`,
    opsPerSec: 1000 / msPerHeight,
    note: `${msPerHeight.toFixed(1)} ms CPU per height; final ${first.toFixed(1)} delays after the proposal (first validator), ≤ ${all.toFixed(1)} at all; best case 3`,
  });
}
emit(rows);
