import { describe } from 'vitest';
import { simSeedSelection } from './simSeedSelection.js';
import { simulateSeedList } from './simulatorSeeds.js';

/**
 * A fresh range of seeds on every run, on top of the fixed 0–499: over many CI runs the simulator
 * explores far more than the fixed seeds can. The range is printed so that a failure replays
 * (`AITBC_SIM_SEEDS=<from>-<to> npx vitest run --project consensus-poa:sim test/randomSeeds.sim.ts`,
 * or `npm run sim -- --from <from> --to <to>`).
 */
const selection = simSeedSelection(process.env.AITBC_SIM_SEEDS);
console.log(`consensus simulator: ${selection.description}`);

describe(`consensus simulator, ${selection.description}`, () => simulateSeedList(selection.seeds));
