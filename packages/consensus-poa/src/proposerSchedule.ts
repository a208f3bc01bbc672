import type { ValidatorSet } from '@aitbc/chain-core';
import { AitbcError, toHex0x } from '@aitbc/crypto';

/**
 * Longest proposer cycle kept (entries); larger total powers are scaled down to fit.
 *
 * @example
 * ```ts
 * import { MAX_SCHEDULE, proposerSchedule } from '@aitbc/consensus-poa';
 * console.log(proposerSchedule(chain.validators).length <= MAX_SCHEDULE); // true
 * ```
 */
export const MAX_SCHEDULE = 10_000;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * One cycle of stake-weighted round-robin (Tendermint's priority accumulation): every step each
 * validator's priority grows by its power, the highest priority proposes (ties: lowest address) and
 * pays back the total power. From zero priorities the sequence repeats after `total power` steps,
 * and each validator proposes exactly `power` times per cycle.
 *
 * Powers are divided by their GCD; if the total is still above {@link MAX_SCHEDULE} they are scaled
 * down proportionally (at least 1 each), which keeps shares within one slot per validator.
 *
 * @example
 * ```ts
 * import { proposerSchedule } from '@aitbc/consensus-poa';
 * const cycle = proposerSchedule(chain.validators); // each address appears in proportion to its power
 * const mine = cycle.filter((a) => a === myAddress).length;
 * ```
 */
export function proposerSchedule(set: ValidatorSet): readonly string[] {
  const vals = set.validators;
  if (vals.length === 0) throw new AitbcError('CONSENSUS_NO_VALIDATORS', 'the validator set is empty');
  let powers = vals.map((v) => v.power);
  const g = powers.reduce(gcd);
  powers = powers.map((p) => p / g);
  let total = powers.reduce((a, b) => a + b, 0);
  if (total > MAX_SCHEDULE) {
    powers = powers.map((p) => Math.max(1, Math.floor((p * MAX_SCHEDULE) / total)));
    total = powers.reduce((a, b) => a + b, 0);
  }
  const priority = powers.map(() => 0);
  const out: string[] = [];
  for (let step = 0; step < total; step++) {
    let best = 0;
    for (let i = 0; i < vals.length; i++) {
      priority[i]! += powers[i]!;
      // Validators are sorted by address, so the first maximum is the lowest address.
      if (priority[i]! > priority[best]!) best = i;
    }
    priority[best]! -= total;
    out.push(vals[best]!.address);
  }
  return out;
}

const cache = new Map<string, readonly string[]>();

/**
 * The proposer of `(height, round)`: entry `(height + round) mod cycle` of {@link proposerSchedule},
 * so the next round's proposer is the next in the schedule. Schedules are cached per set hash.
 *
 * @example
 * ```ts
 * import { proposerFor } from '@aitbc/consensus-poa';
 * const height = chain.head.height + 1;
 * const myTurn = proposerFor(chain.validators, height, 0) === myAddress;
 * ```
 */
export function proposerFor(set: ValidatorSet, height: number, round: number): string {
  const key = toHex0x(set.hash);
  let schedule = cache.get(key);
  if (schedule === undefined) {
    schedule = proposerSchedule(set);
    if (cache.size > 64) cache.clear();
    cache.set(key, schedule);
  }
  return schedule[(height + round) % schedule.length]!;
}
