import { randomInt } from 'node:crypto';

/** Seeds of the random range of each CI run (on top of the fixed 0–499). */
export const RANDOM_SEEDS = 200;
/** The random range starts at or above the fixed seeds and below 2^31. */
const LOWEST = 500;
const HIGHEST = 2 ** 31 - 1;

/** Which seeds a run simulates, and how to name them so that the run replays. */
export interface SeedSelection {
  readonly seeds: readonly number[];
  readonly description: string;
}

/**
 * The seeds of the random sim file: `AITBC_SIM_SEEDS` when set — `<from>-<to>` (`to` excluded, as
 * `npm run sim -- --from <from> --to <to>`) or a comma-separated list — else {@link RANDOM_SEEDS}
 * consecutive seeds from a base drawn with `crypto.randomInt`.
 */
export function simSeedSelection(env: string | undefined): SeedSelection {
  const spec = env?.trim() ?? '';
  if (spec === '') {
    const from = randomInt(LOWEST, HIGHEST - RANDOM_SEEDS);
    const to = from + RANDOM_SEEDS;
    return {
      seeds: Array.from({ length: RANDOM_SEEDS }, (_, i) => from + i),
      description: `random seeds ${from}…${to - 1} (replay: AITBC_SIM_SEEDS=${from}-${to}, or npm run sim -- --from ${from} --to ${to})`,
    };
  }
  const seed = (text: string) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n))
      throw new Error(`AITBC_SIM_SEEDS="${env}": "${text}" is not a non-negative integer`);
    return n;
  };
  const range = /^(\d+)-(\d+)$/.exec(spec);
  if (range !== null) {
    const from = seed(range[1]!);
    const to = seed(range[2]!);
    if (to <= from) throw new Error(`AITBC_SIM_SEEDS="${env}": the range <from>-<to> needs from < to (to is excluded)`);
    return {
      seeds: Array.from({ length: to - from }, (_, i) => from + i),
      description: `seeds ${from}…${to - 1} from AITBC_SIM_SEEDS`,
    };
  }
  const seeds = spec.split(',').map((s) => seed(s.trim()));
  return { seeds, description: `seeds ${seeds.join(', ')} from AITBC_SIM_SEEDS` };
}
