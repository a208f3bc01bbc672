import { type Block, blockFromJson, blockHash, blockToJson, type Commit, type ValidatorSet } from '@aitbc/chain-core';
import { AitbcError, bytesEqual, hexToBytes, publicKeyFromSeed, signingBytes, toHex0x, verify } from '@aitbc/crypto';
import {
  type ConsensusMessage,
  decodeConsensusMessage,
  encodeConsensusMessage,
  type JsonObject,
  type Proposal,
  proposalSigningBody,
  type SignatureVerifier,
  signProposal,
  signVote,
  type Vote,
  voteSigningBody,
} from './consensusMessage.js';
import { proposerFor } from './proposerSchedule.js';
import { polkaVotes, regossipMessages } from './regossip.js';

/**
 * Timeouts in ms; round `r` waits `base + delta * r` (they grow per round).
 *
 * @example
 * ```ts
 * import { type BftTimeouts, DEFAULT_TIMEOUTS } from '@aitbc/consensus-poa';
 * const timeouts: BftTimeouts = { ...DEFAULT_TIMEOUTS, propose: 1500 };
 * const round2Propose = timeouts.propose + timeouts.delta * 2; // 2500 ms
 * ```
 */
export interface BftTimeouts {
  /** Wait for the proposal before prevoting nil. */
  readonly propose: number;
  /** After > 2/3 prevotes for different values, wait before precommitting nil. */
  readonly prevote: number;
  /** After > 2/3 precommits for different values, wait before moving to the next round. */
  readonly precommit: number;
  /** Added to each timeout per round. */
  readonly delta: number;
}

/**
 * Defaults of {@link BftTimeouts}.
 *
 * @example
 * ```ts
 * import { createBftEngine, DEFAULT_TIMEOUTS } from '@aitbc/consensus-poa';
 * const engine = createBftEngine({ chainId, validators, timeouts: { propose: DEFAULT_TIMEOUTS.propose * 2 } });
 * ```
 */
export const DEFAULT_TIMEOUTS: BftTimeouts = Object.freeze({
  propose: 3000,
  prevote: 1000,
  precommit: 1000,
  delta: 500,
});

/**
 * The steps of a round, plus `commit` once the height is decided.
 *
 * @example
 * ```ts
 * import type { BftStep } from '@aitbc/consensus-poa';
 * const step: BftStep = transition.state.step;
 * if (step === 'commit') console.log('height decided');
 * ```
 */
export type BftStep = 'propose' | 'prevote' | 'precommit' | 'commit';

/**
 * What a scheduled timeout is for: one of the three steps, or the periodic re-gossip of own messages.
 *
 * @example
 * ```ts
 * import type { TimeoutKind } from '@aitbc/consensus-poa';
 * const timers = new Map<TimeoutKind, ReturnType<typeof setTimeout>>();
 * for (const out of outputs)
 *   if (out.type === 'schedule')
 *     timers.set(out.kind, setTimeout(() => feed({ type: 'timeout', height: out.height, round: out.round, kind: out.kind }), out.delayMs));
 * ```
 */
export type TimeoutKind = 'propose' | 'prevote' | 'precommit' | 'gossip';

/**
 * Two conflicting signed messages from one validator for the same height, round and step.
 *
 * @example
 * ```ts
 * for (const out of outputs)
 *   if (out.type === 'evidence') console.warn(`${out.evidence.validator} sent a ${out.evidence.type} at ${out.evidence.height}/${out.evidence.round}`);
 * ```
 */
export interface Evidence {
  readonly type: 'duplicate-vote' | 'duplicate-proposal';
  readonly validator: string;
  readonly height: number;
  readonly round: number;
  readonly first: ConsensusMessage;
  readonly second: ConsensusMessage;
}

/**
 * Configuration of {@link createBftEngine}.
 *
 * @example
 * ```ts
 * import { type BftEngineConfig, createBftEngine } from '@aitbc/consensus-poa';
 * const config: BftEngineConfig = { chainId: genesis.chainId, validators: chain.validators, seed, timeouts: { propose: 1500 } };
 * const engine = createBftEngine(config);
 * ```
 */
export interface BftEngineConfig {
  readonly chainId: string;
  readonly validators: ValidatorSet;
  /** This validator's key; absent (or not in the set) for a follower, which votes never. */
  readonly seed?: Uint8Array;
  readonly timeouts?: Partial<BftTimeouts>;
  /** Signature check (default: strict Ed25519 `verify`); simulators pass a memoized one. */
  readonly verify?: SignatureVerifier;
  /** Messages kept for future heights (default 1,000); more are dropped. */
  readonly maxBufferedMessages?: number;
  /** Future heights buffered (default 4): messages beyond `height + 4` are dropped. */
  readonly futureHeights?: number;
  /** Votes for rounds beyond `round + roundWindow` are dropped (default 100). */
  readonly roundWindow?: number;
  /** Evidence entries kept (default 1,000; the oldest are dropped). */
  readonly maxEvidence?: number;
}

/**
 * The votes of one round, by validator address. An honest validator has one vote per step; an
 * equivocating one may have up to {@link MAX_VOTES_PER_STEP} for different values, and each counts
 * toward its own value (a validator is counted at most once per value), so that a polka seen by one
 * honest validator is seen by all once the votes are gossiped, whichever variant arrived first.
 *
 * @example
 * ```ts
 * const votes = state.votes.get(state.round);
 * const prevoted = votes?.prevote.size ?? 0; // validators that prevoted this round
 * ```
 */
export interface RoundVotes {
  readonly prevote: ReadonlyMap<string, readonly Vote[]>;
  readonly precommit: ReadonlyMap<string, readonly Vote[]>;
}

/**
 * Distinct values kept per validator and step (more are dropped; the first conflict is evidence).
 *
 * @example
 * ```ts
 * import { MAX_VOTES_PER_STEP } from '@aitbc/consensus-poa';
 * const variants = state.votes.get(state.round)?.prevote.get(address) ?? [];
 * if (variants.length === MAX_VOTES_PER_STEP) console.log(`${address} equivocates: further prevotes are dropped`);
 * ```
 */
export const MAX_VOTES_PER_STEP = 4;

/**
 * The state of the engine at one height. Treat it as a value: {@link BftEngine.step} never mutates
 * it and returns a new one.
 *
 * @example
 * ```ts
 * let { state } = engine.start(chain.head.height + 1);
 * ({ state } = engine.step(state, { type: 'message', message }));
 * console.log(state.height, state.round, state.step, state.lockedHash, state.decided);
 * ```
 */
export interface BftState {
  readonly height: number;
  readonly round: number;
  readonly step: BftStep;
  readonly lockedRound: number;
  /** Hex hash of the locked block, or null. */
  readonly lockedHash: string | null;
  readonly validRound: number;
  readonly validHash: string | null;
  /** Blocks proposed at this height, by hex hash. */
  readonly blocks: ReadonlyMap<string, Block>;
  /** Validation results by hex hash (absent: not known yet). */
  readonly validity: ReadonlyMap<string, boolean>;
  /** Hashes whose validation was requested and not answered. */
  readonly pending: ReadonlySet<string>;
  /** The first valid-signature proposal of each round. */
  readonly proposals: ReadonlyMap<number, Proposal>;
  readonly votes: ReadonlyMap<number, RoundVotes>;
  /** What this validator signed at this height: `proposal/<round>`, `prevote/<round>`, `precommit/<round>`. */
  readonly signed: ReadonlyMap<string, ConsensusMessage>;
  /** Once-per-round rules already fired. */
  readonly fired: ReadonlySet<string>;
  /** The decision of this height, once made. */
  readonly decided: { readonly round: number; readonly hash: string } | null;
  /** Messages of future heights, replayed when the engine gets there. */
  readonly buffered: readonly ConsensusMessage[];
  /** Evidence of equivocation seen so far (all heights). */
  readonly evidence: readonly Evidence[];
}

/**
 * What the engine is fed.
 *
 * @example
 * ```ts
 * import type { EngineInput } from '@aitbc/consensus-poa';
 * const input: EngineInput = { type: 'message', message: decodeConsensusMessage(JSON.parse(wire)) };
 * ({ state, outputs } = engine.step(state, input));
 * ```
 */
export type EngineInput =
  /** Move to a new height (after the previous one was imported, or the head advanced by sync). */
  | { readonly type: 'newHeight'; readonly height: number }
  | { readonly type: 'message'; readonly message: ConsensusMessage }
  | { readonly type: 'timeout'; readonly height: number; readonly round: number; readonly kind: TimeoutKind }
  /** The block the driver built after a `build` output. */
  | { readonly type: 'built'; readonly height: number; readonly round: number; readonly block: Block }
  /** The driver's verdict on a `validate` output. */
  | { readonly type: 'validated'; readonly height: number; readonly hash: string; readonly valid: boolean };

/**
 * What the engine asks its driver to do, in order.
 *
 * @example
 * ```ts
 * for (const out of outputs) {
 *   if (out.type === 'persist') await store.put(key, utf8ToBytes(JSON.stringify(encodePersistedState(out.record))));
 *   else if (out.type === 'broadcast') gossip(encodeConsensusMessage(out.message));
 *   else if (out.type === 'decide') await chain.importBlock(out.block, out.commit);
 * }
 * ```
 */
export type EngineOutput =
  /** Make this record durable before carrying out the outputs that follow it. */
  | { readonly type: 'persist'; readonly record: PersistedConsensusState }
  | { readonly type: 'broadcast'; readonly message: ConsensusMessage }
  | {
      readonly type: 'schedule';
      readonly height: number;
      readonly round: number;
      readonly kind: TimeoutKind;
      readonly delayMs: number;
    }
  /** This validator proposes at `(height, round)` and has no valid value: build a block, feed `built`. */
  | { readonly type: 'build'; readonly height: number; readonly round: number }
  /** Check the block (chain-core `validateBlock`), feed `validated`. */
  | { readonly type: 'validate'; readonly height: number; readonly hash: string; readonly block: Block }
  /** The height is decided: import `block` with `commit`, then feed `newHeight`. */
  | {
      readonly type: 'decide';
      readonly height: number;
      readonly round: number;
      readonly block: Block;
      readonly commit: Commit;
    }
  | { readonly type: 'step'; readonly height: number; readonly round: number; readonly step: BftStep }
  | { readonly type: 'evidence'; readonly evidence: Evidence }
  | { readonly type: 'rejected'; readonly code: string; readonly reason: string; readonly message: ConsensusMessage };

/**
 * What a validator persists before sending anything it signed.
 *
 * @example
 * ```ts
 * import { decodePersistedState, encodePersistedState, type PersistedConsensusState } from '@aitbc/consensus-poa';
 * const record: PersistedConsensusState = decodePersistedState(JSON.parse(saved));
 * const { state, outputs } = engine.restore(record);
 * ```
 */
export interface PersistedConsensusState {
  readonly height: number;
  readonly round: number;
  readonly lockedRound: number;
  readonly lockedBlock: Block | null;
  readonly validRound: number;
  readonly validBlock: Block | null;
  /** Everything signed at this height. */
  readonly signed: readonly ConsensusMessage[];
  /**
   * The polka of the valid value: the prevotes of `validRound` for `validBlock` (absent in records
   * of older versions). A validator that restarts keeps the proof that lets it and its peers prevote
   * its valid value when it re-proposes it; its signers may be gone for good.
   */
  readonly polka?: readonly Vote[];
}

/**
 * The result of one engine step.
 *
 * @example
 * ```ts
 * import type { Transition } from '@aitbc/consensus-poa';
 * const { state, outputs }: Transition = engine.start(chain.head.height + 1);
 * ```
 */
export interface Transition {
  readonly state: BftState;
  readonly outputs: readonly EngineOutput[];
}

/**
 * The BFT state machine of one validator (or follower): pure, no I/O, no clock.
 *
 * @example
 * ```ts
 * import { createBftEngine } from '@aitbc/consensus-poa';
 * const engine = createBftEngine({ chainId, validators: chain.validators, seed });
 * console.log(engine.self, engine.timeouts.propose); // 'ait1…' 3000
 * let { state, outputs } = engine.start(chain.head.height + 1);
 * ```
 */
export interface BftEngine {
  /** This validator's address, or null for a follower. */
  readonly self: string | null;
  readonly timeouts: BftTimeouts;
  /** A fresh state at `height`, round 0 started. */
  start(height: number): Transition;
  /** The state after a restart from what was persisted (re-sends what was signed, never signs anew for a signed step). */
  restore(record: PersistedConsensusState): Transition;
  /** Applies one input; `state` is not modified. */
  step(state: BftState, input: EngineInput): Transition;
}

interface MutableRoundVotes {
  prevote: Map<string, readonly Vote[]>;
  precommit: Map<string, readonly Vote[]>;
}

interface MutableState {
  height: number;
  round: number;
  step: BftStep;
  lockedRound: number;
  lockedHash: string | null;
  validRound: number;
  validHash: string | null;
  blocks: Map<string, Block>;
  validity: Map<string, boolean>;
  pending: Set<string>;
  proposals: Map<number, Proposal>;
  votes: Map<number, MutableRoundVotes>;
  signed: Map<string, ConsensusMessage>;
  fired: Set<string>;
  decided: { round: number; hash: string } | null;
  buffered: readonly ConsensusMessage[];
  evidence: readonly Evidence[];
}

const NIL = 'nil';
const hashKey = (h: Uint8Array | null): string => (h === null ? NIL : toHex0x(h));

function clone(s: BftState): MutableState {
  const votes = new Map<number, MutableRoundVotes>();
  for (const [r, v] of s.votes) votes.set(r, { prevote: new Map(v.prevote), precommit: new Map(v.precommit) });
  return {
    ...s,
    blocks: new Map(s.blocks),
    validity: new Map(s.validity),
    pending: new Set(s.pending),
    proposals: new Map(s.proposals),
    votes,
    signed: new Map(s.signed),
    fired: new Set(s.fired),
    decided: s.decided,
  };
}

function emptyState(height: number, carry?: MutableState): MutableState {
  return {
    height,
    round: 0,
    step: 'propose',
    lockedRound: -1,
    lockedHash: null,
    validRound: -1,
    validHash: null,
    blocks: new Map(),
    validity: new Map(),
    pending: new Set(),
    proposals: new Map(),
    votes: new Map(),
    signed: new Map(),
    fired: new Set(),
    decided: null,
    buffered: carry?.buffered ?? [],
    evidence: carry?.evidence ?? [],
  };
}

/**
 * Creates the Tendermint state machine of "The latest gossip on BFT consensus" (Buchman, Kwon,
 * Milosevic 2018, Algorithm 1) over stake-weighted validators: thresholds are voting power (> 2/3
 * for a polka or a commit, > 1/3 to skip to a higher round), proposers follow {@link proposerFor}.
 *
 * The engine signs (Ed25519 is deterministic) but does no I/O: every effect is an
 * {@link EngineOutput} for its driver, and a `persist` output always precedes the broadcast of
 * anything newly signed. It never signs two different messages for one `(height, round, step)`, even
 * after {@link BftEngine.restore}.
 *
 * @example
 * ```ts
 * const engine = createBftEngine({ chainId, validators: chain.validators, seed });
 * let { state, outputs } = engine.start(chain.head.height + 1);
 * ({ state, outputs } = engine.step(state, { type: 'message', message }));
 * ```
 */
export function createBftEngine(config: BftEngineConfig): BftEngine {
  const { chainId, validators: set } = config;
  if (set.validators.length === 0) throw new AitbcError('CONSENSUS_NO_VALIDATORS', 'the validator set is empty');
  const timeouts: BftTimeouts = { ...DEFAULT_TIMEOUTS, ...config.timeouts };
  for (const [k, v] of Object.entries(timeouts))
    if (!Number.isSafeInteger(v) || v < 0)
      throw new AitbcError('CONSENSUS_BAD_CONFIG', `timeouts.${k} must be a non-negative integer (ms)`);
  const check = config.verify ?? verify;
  const maxBuffered = config.maxBufferedMessages ?? 1000;
  const futureHeights = config.futureHeights ?? 4;
  const roundWindow = config.roundWindow ?? 100;
  const maxEvidence = config.maxEvidence ?? 1000;
  const seed = config.seed;
  let self: string | null = null;
  if (seed !== undefined) {
    const pk = publicKeyFromSeed(seed);
    self = set.validators.find((v) => bytesEqual(v.publicKey, pk))?.address ?? null;
  }
  const total = set.totalPower;
  const twoThirds = (p: number) => p * 3 > total * 2;
  const oneThird = (p: number) => p * 3 > total;

  /** One step's mutable context. */
  class Run {
    readonly out: EngineOutput[] = [];
    constructor(public s: MutableState) {}

    emit(o: EngineOutput) {
      this.out.push(o);
    }

    schedule(kind: TimeoutKind, round: number) {
      const base = kind === 'gossip' ? timeouts.propose : timeouts[kind];
      this.emit({ type: 'schedule', height: this.s.height, round, kind, delayMs: base + timeouts.delta * round });
    }

    setStep(step: BftStep) {
      this.s.step = step;
      this.emit({ type: 'step', height: this.s.height, round: this.s.round, step });
    }

    record(): PersistedConsensusState {
      const s = this.s;
      return {
        height: s.height,
        round: s.round,
        lockedRound: s.lockedRound,
        lockedBlock: s.lockedHash === null ? null : (s.blocks.get(s.lockedHash) ?? null),
        validRound: s.validRound,
        validBlock: s.validHash === null ? null : (s.blocks.get(s.validHash) ?? null),
        signed: [...s.signed.values()],
        polka: s.validHash === null ? [] : polkaVotes(s, s.validRound, s.validHash),
      };
    }

    roundVotes(r: number): MutableRoundVotes {
      let v = this.s.votes.get(r);
      if (v === undefined) {
        v = { prevote: new Map(), precommit: new Map() };
        this.s.votes.set(r, v);
      }
      return v;
    }

    power(r: number, type: 'prevote' | 'precommit', key: string | '*'): number {
      const votes = this.s.votes.get(r)?.[type];
      if (votes === undefined) return 0;
      let p = 0;
      for (const [validator, list] of votes)
        if (key === '*' || list.some((v) => hashKey(v.blockHash) === key)) p += set.byAddress(validator)?.power ?? 0;
      return p;
    }

    /** Hashes with > 2/3 of the power in votes of `type` at round `r`. */
    quorumHashes(r: number, type: 'prevote' | 'precommit'): string[] {
      const votes = this.s.votes.get(r)?.[type];
      if (votes === undefined) return [];
      const byHash = new Map<string, number>();
      for (const [validator, list] of votes) {
        const power = set.byAddress(validator)?.power ?? 0;
        for (const k of new Set(list.map((v) => hashKey(v.blockHash)))) byHash.set(k, (byHash.get(k) ?? 0) + power);
      }
      return [...byHash].filter(([k, p]) => k !== NIL && twoThirds(p)).map(([k]) => k);
    }

    /** Valid(v): true, false, or undefined (then validation is requested once). */
    valid(hash: string): boolean | undefined {
      const known = this.s.validity.get(hash);
      if (known !== undefined) return known;
      const block = this.s.blocks.get(hash);
      if (block !== undefined && !this.s.pending.has(hash)) {
        this.s.pending.add(hash);
        this.emit({ type: 'validate', height: this.s.height, hash, block });
      }
      return undefined;
    }

    addEvidence(e: Evidence) {
      const list = [...this.s.evidence, e];
      this.s.evidence = list.length > maxEvidence ? list.slice(list.length - maxEvidence) : list;
      this.emit({ type: 'evidence', evidence: e });
    }

    /** Signs (once per step) and sends a vote; a step already signed re-sends what was signed. */
    vote(type: 'prevote' | 'precommit', hash: string | null) {
      if (self === null || seed === undefined) return;
      const s = this.s;
      const key = `${type}/${s.round}`;
      let v = s.signed.get(key) as Vote | undefined;
      if (v === undefined) {
        v = signVote(chainId, type, s.height, s.round, hash === null ? null : hexHash(hash), self, seed);
        s.signed.set(key, v);
        this.emit({ type: 'persist', record: this.record() });
      }
      this.emit({ type: 'broadcast', message: v });
      this.roundVotes(v.round)[type].set(self, [v]);
    }

    propose(block: Block, polRound: number) {
      if (self === null || seed === undefined) return;
      const s = this.s;
      const key = `proposal/${s.round}`;
      let p = s.signed.get(key) as Proposal | undefined;
      if (p === undefined) {
        p = signProposal(chainId, block, s.round, polRound, seed);
        const k = toHex0x(p.blockHash);
        s.blocks.set(k, block);
        s.validity.set(k, true); // built by our own chain, or already validated (valid value)
        s.signed.set(key, p);
        this.emit({ type: 'persist', record: this.record() });
      }
      this.emit({ type: 'broadcast', message: p });
      if (!s.proposals.has(p.round)) s.proposals.set(p.round, p);
    }

    startRound(r: number) {
      const s = this.s;
      s.round = r;
      this.setStep('propose');
      this.schedule('propose', r);
      this.schedule('gossip', r);
      if (self !== null && proposerFor(set, s.height, r) === self) {
        const signed = s.signed.get(`proposal/${r}`) as Proposal | undefined;
        if (signed !== undefined) this.propose(signed.block, signed.polRound);
        else if (s.validHash !== null) this.propose(s.blocks.get(s.validHash)!, s.validRound);
        else this.emit({ type: 'build', height: s.height, round: r });
      }
    }

    decide(r: number, hash: string) {
      const s = this.s;
      const block = s.blocks.get(hash)!;
      const precommits = [...(s.votes.get(r)?.precommit.values() ?? [])].flatMap(
        (list) => list.find((v) => hashKey(v.blockHash) === hash) ?? [],
      );
      s.decided = { round: r, hash };
      this.setStep('commit');
      this.emit({
        type: 'decide',
        height: s.height,
        round: r,
        block,
        commit: {
          height: s.height,
          round: r,
          blockHash: hexHash(hash),
          signatures: precommits.map((v) => ({ validator: v.validator, signature: v.signature })),
        },
      });
    }

    /** Applies the "upon" rules until none fires. */
    progress() {
      for (let guard = 0; guard < 10_000; guard++) if (!this.rule()) return;
    }

    rule(): boolean {
      const s = this.s;
      if (s.step === 'commit') return false;
      const r = s.round;
      // Line 49: a decision at any round of this height.
      for (const rr of s.votes.keys()) {
        for (const hash of this.quorumHashes(rr, 'precommit')) {
          if (!s.blocks.has(hash)) continue; // a vote for a block we have not seen: wait for it (or for sync)
          if (this.valid(hash) === true) {
            this.decide(rr, hash);
            return true;
          }
        }
      }
      // Line 55: > 1/3 of the power is at a higher round: skip to it.
      let skip = -1;
      for (const [rr, v] of s.votes) {
        if (rr <= r || rr <= skip) continue;
        const who = new Set([...v.prevote.keys(), ...v.precommit.keys()]);
        const p = s.proposals.get(rr);
        if (p !== undefined) who.add(proposerFor(set, s.height, rr));
        let power = 0;
        for (const a of who) power += set.byAddress(a)?.power ?? 0;
        if (oneThird(power)) skip = rr;
      }
      if (skip > r) {
        this.startRound(skip);
        return true;
      }
      const proposal = s.proposals.get(r);
      const pHash = proposal === undefined ? undefined : toHex0x(proposal.blockHash);
      // Lines 22 and 28: prevote on the round's proposal.
      if (s.step === 'propose' && proposal !== undefined && pHash !== undefined) {
        const vr = proposal.polRound;
        if (vr === -1) {
          const ok = this.valid(pHash);
          if (ok !== undefined) {
            this.vote('prevote', ok && (s.lockedRound === -1 || s.lockedHash === pHash) ? pHash : null);
            this.setStep('prevote');
            return true;
          }
        } else if (vr < r && twoThirds(this.power(vr, 'prevote', pHash))) {
          const ok = this.valid(pHash);
          if (ok !== undefined) {
            this.vote('prevote', ok && (s.lockedRound <= vr || s.lockedHash === pHash) ? pHash : null);
            this.setStep('prevote');
            return true;
          }
        }
      }
      // Line 34: > 2/3 prevotes of any kind: start the prevote timeout.
      if (s.step === 'prevote' && !s.fired.has(`prevote-timeout/${r}`) && twoThirds(this.power(r, 'prevote', '*'))) {
        s.fired.add(`prevote-timeout/${r}`);
        this.schedule('prevote', r);
        return true;
      }
      // Line 36: a polka for a valid block in this round: lock (if still prevoting) and record the valid value.
      if ((s.step === 'prevote' || s.step === 'precommit') && !s.fired.has(`polka/${r}`)) {
        for (const hash of this.quorumHashes(r, 'prevote')) {
          if (!s.blocks.has(hash) || this.valid(hash) !== true) continue;
          s.fired.add(`polka/${r}`);
          if (s.step === 'prevote') {
            s.lockedRound = r;
            s.lockedHash = hash;
            s.validRound = r;
            s.validHash = hash;
            this.vote('precommit', hash);
            this.setStep('precommit');
          } else {
            s.validRound = r;
            s.validHash = hash;
            // No vote follows to carry it: persist the new valid value and its polka now.
            if (self !== null) this.emit({ type: 'persist', record: this.record() });
          }
          return true;
        }
      }
      // Line 44: a polka for nil: precommit nil.
      if (s.step === 'prevote' && twoThirds(this.power(r, 'prevote', NIL))) {
        this.vote('precommit', null);
        this.setStep('precommit');
        return true;
      }
      // Line 47: > 2/3 precommits of any kind: start the precommit timeout.
      if (!s.fired.has(`precommit-timeout/${r}`) && twoThirds(this.power(r, 'precommit', '*'))) {
        s.fired.add(`precommit-timeout/${r}`);
        this.schedule('precommit', r);
        return true;
      }
      return false;
    }

    reject(code: string, reason: string, message: ConsensusMessage) {
      this.emit({ type: 'rejected', code, reason, message });
    }

    receive(m: ConsensusMessage) {
      const s = this.s;
      if (m.height < s.height) return this.reject('CONSENSUS_PAST_HEIGHT', 'the height is already decided', m);
      if (m.height > s.height) {
        if (m.height > s.height + futureHeights)
          return this.reject('CONSENSUS_FUTURE_HEIGHT', 'too far ahead to buffer', m);
        if (s.buffered.length >= maxBuffered)
          return this.reject('CONSENSUS_BUFFER_FULL', 'the future-height buffer is full', m);
        s.buffered = [...s.buffered, m];
        return;
      }
      if (m.round > s.round + roundWindow) return this.reject('CONSENSUS_ROUND_TOO_FAR', 'round too far ahead', m);
      if (m.type === 'proposal') return this.receiveProposal(m);
      const validator = set.byAddress(m.validator);
      if (validator === undefined) return this.reject('CONSENSUS_NOT_VALIDATOR', 'not in the validator set', m);
      const bytes = signingBytes('vote', chainId, voteSigningBody(m.type, m.height, m.round, m.blockHash));
      if (!check(m.signature, bytes, validator.publicKey))
        return this.reject('CONSENSUS_BAD_SIGNATURE', 'the vote signature does not verify', m);
      const votes = this.roundVotes(m.round)[m.type];
      const existing = votes.get(m.validator) ?? [];
      const key = hashKey(m.blockHash);
      if (existing.some((v) => hashKey(v.blockHash) === key)) return; // a duplicate
      if (existing.length === 1)
        this.addEvidence({
          type: 'duplicate-vote',
          validator: m.validator,
          height: m.height,
          round: m.round,
          first: existing[0]!,
          second: m,
        });
      if (existing.length >= MAX_VOTES_PER_STEP) return;
      votes.set(m.validator, [...existing, m]);
      this.progress();
    }

    receiveProposal(p: Proposal) {
      const s = this.s;
      if (p.block.header.chainId !== chainId)
        return this.reject('CONSENSUS_WRONG_CHAIN', `the block is for chain "${p.block.header.chainId}"`, p);
      const proposer = set.byAddress(proposerFor(set, p.height, p.round))!;
      const bytes = signingBytes('proposal', chainId, proposalSigningBody(p.height, p.round, p.polRound, p.blockHash));
      if (!check(p.signature, bytes, proposer.publicKey))
        return this.reject('CONSENSUS_BAD_SIGNATURE', 'not signed by the proposer of this round', p);
      const existing = s.proposals.get(p.round);
      const k = toHex0x(p.blockHash);
      if (existing !== undefined) {
        if (toHex0x(existing.blockHash) === k) return; // a duplicate
        if (!s.fired.has(`equivocated/${p.round}`)) {
          s.fired.add(`equivocated/${p.round}`);
          this.addEvidence({
            type: 'duplicate-proposal',
            validator: proposer.address,
            height: p.height,
            round: p.round,
            first: existing,
            second: p,
          });
        }
        // The first proposal stays the round's; the other block may still gather a polka or a commit.
        if (s.blocks.has(k) || s.blocks.size >= 64) return;
        s.blocks.set(k, p.block);
        this.progress();
        return;
      }
      s.proposals.set(p.round, p);
      if (!s.blocks.has(k)) s.blocks.set(k, p.block);
      this.progress();
    }

    /** Enters a new height and replays what was buffered for it. */
    enter(height: number) {
      const s = emptyState(height, this.s);
      const replay = s.buffered.filter((m) => m.height === height);
      s.buffered = s.buffered.filter((m) => m.height > height && m.height <= height + futureHeights);
      this.s = s;
      this.startRound(0);
      this.progress();
      for (const m of replay) {
        if (this.s.height !== height) break;
        this.receive(m);
      }
    }
  }

  const done = (run: Run): Transition => ({ state: run.s, outputs: run.out });

  return {
    self,
    timeouts,
    start(height) {
      const run = new Run(emptyState(height));
      run.enter(height);
      return done(run);
    },
    restore(record) {
      const s = emptyState(record.height);
      s.lockedRound = record.lockedRound;
      s.validRound = record.validRound;
      for (const [which, block] of [
        ['locked', record.lockedBlock],
        ['valid', record.validBlock],
      ] as const) {
        if (block === null) continue;
        const k = toHex0x(blockHash(block.header));
        s.blocks.set(k, block);
        s.validity.set(k, true); // it had a polka for a block we validated against the same parent
        if (which === 'locked') s.lockedHash = k;
        else s.validHash = k;
      }
      const run = new Run(s);
      for (const m of record.signed) {
        if (m.height !== record.height) continue;
        if (m.type === 'proposal') {
          s.signed.set(`proposal/${m.round}`, m);
          const k = toHex0x(m.blockHash);
          s.blocks.set(k, m.block);
          s.validity.set(k, true);
          s.proposals.set(m.round, m);
        } else if (self !== null && m.validator === self) {
          s.signed.set(`${m.type}/${m.round}`, m);
          run.roundVotes(m.round)[m.type].set(self, [m]);
        }
      }
      // The polka of the valid value, checked again (it is what makes the value re-proposable).
      if (s.validHash !== null)
        for (const v of record.polka ?? []) {
          if (v.height !== record.height || v.round !== record.validRound || v.type !== 'prevote') continue;
          if (hashKey(v.blockHash) !== s.validHash) continue;
          const validator = set.byAddress(v.validator);
          const bytes = signingBytes('vote', chainId, voteSigningBody(v.type, v.height, v.round, v.blockHash));
          if (validator === undefined || !check(v.signature, bytes, validator.publicKey)) continue;
          const votes = run.roundVotes(v.round).prevote;
          const existing = votes.get(v.validator) ?? [];
          if (!existing.some((x) => hashKey(x.blockHash) === s.validHash)) votes.set(v.validator, [...existing, v]);
        }
      // Re-send what was signed (peers may have missed it), then resume at the persisted round.
      for (const m of s.signed.values()) run.emit({ type: 'broadcast', message: m });
      run.startRound(record.round);
      run.progress();
      return done(run);
    },
    step(state, input) {
      const run = new Run(clone(state));
      const s = run.s;
      switch (input.type) {
        case 'newHeight':
          if (input.height > s.height) run.enter(input.height);
          break;
        case 'message':
          run.receive(input.message);
          break;
        case 'built':
          if (
            input.height === s.height &&
            input.block.header.height === s.height &&
            input.round === s.round &&
            s.step === 'propose'
          ) {
            const signed = s.signed.get(`proposal/${s.round}`) as Proposal | undefined;
            if (signed !== undefined) run.propose(signed.block, signed.polRound);
            else run.propose(input.block, -1);
            run.progress();
          }
          break;
        case 'validated':
          if (input.height === s.height && s.pending.has(input.hash)) {
            s.pending.delete(input.hash);
            s.validity.set(input.hash, input.valid);
            run.progress();
          }
          break;
        case 'timeout':
          onTimeout(run, input.height, input.round, input.kind);
          break;
      }
      return done(run);
    },
  };

  function onTimeout(run: Run, height: number, round: number, kind: TimeoutKind) {
    const s = run.s;
    if (height !== s.height || round !== s.round) return;
    if (kind === 'gossip') {
      // Re-send, as gossip would, what a peer may have lost (see regossipMessages).
      for (const message of regossipMessages(s, self)) run.emit({ type: 'broadcast', message });
      run.schedule('gossip', round);
      return;
    }
    if (s.step === 'commit') return;
    if (kind === 'propose' && s.step === 'propose') {
      run.vote('prevote', null);
      run.setStep('prevote');
    } else if (kind === 'prevote' && s.step === 'prevote') {
      run.vote('precommit', null);
      run.setStep('precommit');
    } else if (kind === 'precommit') {
      run.startRound(round + 1);
    }
    run.progress();
  }
}

const hexHash = (hex: string): Uint8Array => hexToBytes(hex, 32);

/**
 * The store form of a {@link PersistedConsensusState} (JSON).
 *
 * @example
 * ```ts
 * import { encodePersistedState } from '@aitbc/consensus-poa';
 * import { utf8ToBytes } from '@aitbc/crypto';
 * if (out.type === 'persist') await store.put(KEY, utf8ToBytes(JSON.stringify(encodePersistedState(out.record))));
 * ```
 */
export function encodePersistedState(record: PersistedConsensusState): JsonObject {
  return {
    height: record.height,
    round: record.round,
    lockedRound: record.lockedRound,
    lockedBlock: record.lockedBlock === null ? null : (blockToJson(record.lockedBlock) as JsonObject),
    validRound: record.validRound,
    validBlock: record.validBlock === null ? null : (blockToJson(record.validBlock) as JsonObject),
    signed: record.signed.map(encodeConsensusMessage),
    polka: (record.polka ?? []).map(encodeConsensusMessage),
  };
}

/**
 * Parses {@link encodePersistedState}'s output. @throws AitbcError `CONSENSUS_BAD_STATE`.
 *
 * @example
 * ```ts
 * import { decodePersistedState } from '@aitbc/consensus-poa';
 * import { bytesToUtf8 } from '@aitbc/crypto';
 * const bytes = await store.get(KEY);
 * const restored = bytes && engine.restore(decodePersistedState(JSON.parse(bytesToUtf8(bytes))));
 * ```
 */
export function decodePersistedState(json: unknown): PersistedConsensusState {
  try {
    const o = json as Record<string, unknown>;
    const int = (v: unknown, min: number) => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new Error('not a counter');
      return v;
    };
    if (!Array.isArray(o.signed)) throw new Error('signed');
    if (o.polka !== undefined && !Array.isArray(o.polka)) throw new Error('polka');
    const polka = ((o.polka as unknown[] | undefined) ?? []).map(decodeConsensusMessage);
    if (polka.some((m) => m.type !== 'prevote')) throw new Error('polka: not a prevote');
    return {
      height: int(o.height, 1),
      round: int(o.round, 0),
      lockedRound: int(o.lockedRound, -1),
      lockedBlock: o.lockedBlock === null ? null : blockFromJson(o.lockedBlock),
      validRound: int(o.validRound, -1),
      validBlock: o.validBlock === null ? null : blockFromJson(o.validBlock),
      signed: o.signed.map(decodeConsensusMessage),
      polka: polka as Vote[],
    };
  } catch (e) {
    throw new AitbcError('CONSENSUS_BAD_STATE', 'the persisted consensus state does not decode', { cause: e });
  }
}
