import { toHex0x } from '@aitbc/crypto';
import type { BftState } from './bftEngine.js';
import type { ConsensusMessage, Vote } from './consensusMessage.js';

/** Rounds back from the current one whose own messages the gossip timer re-sends in full. */
export const GOSSIP_ROUNDS = 8;

const hashKey = (h: Uint8Array | null): string => (h === null ? 'nil' : toHex0x(h));

/**
 * The prevotes of `round` for `hash` (hex) held in `state`: the polka that justifies a valid value
 * (or a lock) at that round, one vote per validator.
 */
export function polkaVotes(state: BftState, round: number, hash: string): Vote[] {
  const out: Vote[] = [];
  for (const list of state.votes.get(round)?.prevote.values() ?? []) {
    const v = list.find((x) => hashKey(x.blockHash) === hash);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/**
 * What the gossip timer re-sends at `(state.height, state.round)`, so that every honest validator
 * eventually holds what any honest validator holds (the gossip property that the liveness of
 * "The latest gossip on BFT consensus" rests on) even though the transport delivers each broadcast
 * at most once and does not relay:
 *
 * - everything this validator signed in the last {@link GOSSIP_ROUNDS} rounds, and its votes for
 *   blocks in any round;
 * - the polka (anyone's prevotes) of its valid value, which makes that value re-proposable: a
 *   validator locked on it, or one asked to prevote it, needs that proof;
 * - **other validators' votes of the current round**, and their **precommits of the previous
 *   round**. Those are what put this validator where it is (a timed-out round needs > 2/3
 *   precommits, a round skip > 1/3 of the power at the higher round): a peer that missed them —
 *   their signer may have crashed since, or the peer was partitioned or restarted — gets them from
 *   here and follows by the same rules instead of waiting for messages that nobody will send again.
 */
export function regossipMessages(state: BftState, self: string | null): ConsensusMessage[] {
  const r = state.round;
  const out: ConsensusMessage[] = [];
  const sent = new Set<ConsensusMessage>();
  const add = (m: ConsensusMessage) => {
    if (sent.has(m)) return;
    sent.add(m);
    out.push(m);
  };
  for (const m of state.signed.values())
    if (m.round >= r - GOSSIP_ROUNDS || (m.type !== 'proposal' && m.blockHash !== null)) add(m);
  if (state.validHash !== null)
    for (const v of polkaVotes(state, state.validRound, state.validHash)) if (v.validator !== self) add(v);
  const othersOf = (round: number, types: readonly ('prevote' | 'precommit')[]) => {
    const votes = state.votes.get(round);
    if (votes === undefined) return;
    for (const type of types)
      for (const [validator, list] of votes[type]) if (validator !== self) for (const v of list) add(v);
  };
  othersOf(r, ['prevote', 'precommit']);
  if (r > 0) othersOf(r - 1, ['precommit']);
  return out;
}
