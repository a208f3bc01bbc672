/**
 * The simulator command: `npm run sim -w @aitbc/consensus-poa -- --from 0 --to 10000` runs a seed
 * range and prints a summary; `-- --seed 42 --trace` replays one seed with its event trace.
 */
import { runSeedRange, runSimulation } from './simulator.js';

const args = process.argv.slice(2);
const value = (name: string): number | undefined => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) {
    process.stderr.write(`--${name} needs a non-negative integer\n`);
    process.exit(2);
  }
  return v;
};

const one = value('seed');
if (one !== undefined) {
  const r = await runSimulation({
    seed: one,
    ...(args.includes('--trace') ? { trace: (line: string) => process.stdout.write(`${line}\n`) } : {}),
  });
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  process.exit(r.violations.length > 0 ? 1 : 0);
}
const from = value('from') ?? 0;
const to = value('to') ?? from + 500;
const started = Date.now();
const summary = await runSeedRange(from, to, (r) => {
  if (r.violations.length > 0) process.stdout.write(`seed ${r.seed}: ${r.violations.join('; ')}\n`);
  else if (r.seed % 100 === 99) process.stderr.write(`… seed ${r.seed}\n`);
});
const byz = summary.results.filter((r) => r.byzantine > 0).length;
process.stdout.write(
  `seeds run: ${summary.seeds} (${from}…${to - 1}), heights finalized: ${summary.heights}, ` +
    `runs with Byzantine validators: ${byz}, equivocations: ${summary.results.reduce((s, r) => s + r.equivocations, 0)}, ` +
    `violations: ${summary.violations}${summary.failingSeeds.length > 0 ? ` (seeds ${summary.failingSeeds.join(', ')}; replay with --seed N --trace)` : ''}, ` +
    `${((Date.now() - started) / 1000).toFixed(1)} s\n`,
);
process.exit(summary.violations > 0 ? 1 : 0);
