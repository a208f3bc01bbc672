/**
 * The node's gossip validation: what the peer network asks before it delivers or relays a gossip
 * message (`validateGossip`, a libp2p-gossipsub-style verdict), and the frame limit fitted to the
 * chain's largest legitimate message.
 *
 * - Transactions (`{txs: [...]}`): malformed bodies are rejected at once; well-formed batches go
 *   through the bounded intake queue and the mempool (`addMany`: signature, nonce, fee, balance), and
 *   the verdict waits for that. A batch with a transaction that does not decode, has a bad signature or
 *   names another chain is `reject`ed (an honest node only forwards what its mempool admitted); one
 *   whose transactions were all admitted now or known already, at least one of them new, is `accept`ed
 *   (and relayed as received); a mixed batch is `ignore`d and the transactions it added are
 *   re-published by this node (`republish`), so only admitted transactions travel on.
 * - Proposals and votes (`{m: {...}, s}`): structure, relevance (height within
 *   `[head, head + heightWindow]`, else `ignore`d — but a vote whose signer is not in the validator
 *   set is `reject`ed at any height), signer (a vote's validator in the set, a proposal
 *   signed by the scheduled proposer of its height and round: else `reject`ed), signature (else
 *   `reject`ed), and duplicates (the same vote or proposal within `dedupeMs`, re-wrapped or not, is
 *   `ignore`d). Only then is it delivered to the engine and relayed.
 */
import {
  type Chain,
  type ChainParams,
  blockHash as hashOfHeader,
  headerFromJson,
  type Mempool,
  type SignedTx,
  txFromJson,
} from '@aitbc/chain-core';
import { decodeConsensusMessage, proposalSigningBody, proposerFor, verifyVoteSignature } from '@aitbc/consensus-poa';
import { hexToBytes, isAitbcError, toHex0x, verifyMessage } from '@aitbc/crypto';
import type { GossipKind, GossipVerdict, JsonObject } from '@aitbc/rpc';
import { createTxIntake, type TxIntake } from './txIntake.js';

/** Most transactions in one gossiped batch. */
export const MAX_TX_BATCH = 512;
/**
 * Bytes a frame may carry beyond its payload budget: the frame's keys, a 64-id `to` list (~4.3 KB),
 * a block's header, last commit and signature.
 */
const FRAME_SLACK_BYTES = 256 * 1024;
/** Per validator: its signature in a block's last commit. */
const PER_VALIDATOR_BYTES = 1024;

/**
 * Bytes of transaction JSON one gossiped batch may carry: a maximal block's transactions (the largest
 * legitimate message is a proposal of a maximal block, so a batch never needs more).
 */
export function txBatchBudget(params: Pick<ChainParams, 'maxBlockBytes' | 'maxTxBytes'>): number {
  return Math.max(params.maxBlockBytes, params.maxTxBytes);
}

/**
 * The peer frame limit of a chain: a proposal of a maximal block (`maxBlockBytes` of transactions —
 * a transaction's wire size is its JSON length — plus header, last commit and envelope). Range-sync
 * responses and transaction batches are built under it; 4.3 MiB with the default parameters.
 */
export function peerFrameLimit(params: Pick<ChainParams, 'maxBlockBytes' | 'maxTxBytes'>, validators: number): number {
  return txBatchBudget(params) + FRAME_SLACK_BYTES + validators * PER_VALIDATOR_BYTES;
}

/**
 * Splits transactions (wire JSON) into gossip batches of at most {@link MAX_TX_BATCH} transactions and
 * `budget` bytes of JSON (a single larger transaction goes alone).
 */
export function txGossipBatches(txs: readonly JsonObject[], budget: number): JsonObject[][] {
  const out: JsonObject[][] = [];
  let batch: JsonObject[] = [];
  let bytes = 0;
  for (const tx of txs) {
    const n = Buffer.byteLength(JSON.stringify(tx), 'utf8') + 1;
    if (batch.length > 0 && (batch.length === MAX_TX_BATCH || bytes + n > budget)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(tx);
    bytes += n;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/**
 * Signatures of gossiped transactions verified at once, the event loop running between chunks. In
 * Node, `@aitbc/crypto` verifies on this thread (libsodium); where it falls back to OpenSSL the
 * chunk goes to the libuv thread pool, which also runs the database (every level read and the fsync of
 * each consensus vote and block import): a whole batch queued at once (512 jobs of ~85 µs) put the
 * consensus I/O behind it, for seconds under load.
 */
const VERIFY_CHUNK = 32;

/** Refusals no honest peer of this chain sends: the sender is scored down. */
const REJECTED_TX_CODES: ReadonlySet<string> = new Set(['CHAIN_BAD_SIGNATURE', 'CHAIN_WRONG_CHAIN']);

/**
 * The payload of a gossip body: `{txs: [...]}` (a batch of wire transactions) or `{m: {...}, s}` (a
 * consensus message, `s` making each broadcast its own message). Bodies are plain JSON, parsed once
 * with their frame (the peer network's message id is a digest of the frame text). Bodies whose payload
 * is JSON text (`{txs: "[...]"}`, `{m: "{...}"}`), as earlier versions sent them, are accepted too.
 */
export function parseGossip(kind: string, body: JsonObject): unknown {
  try {
    if (kind === 'tx') {
      if (Object.keys(body).length !== 1) return undefined;
      const txs: unknown = typeof body.txs === 'string' ? JSON.parse(body.txs) : body.txs;
      return Array.isArray(txs) &&
        txs.length > 0 &&
        txs.length <= MAX_TX_BATCH &&
        txs.every((t) => typeof t === 'object' && t !== null && !Array.isArray(t))
        ? txs
        : undefined;
    }
    if (kind === 'proposal' || kind === 'vote') {
      if (Object.keys(body).length !== 2 || typeof body.s !== 'string' || body.s.length > 64) return undefined;
      const m: unknown = typeof body.m === 'string' ? JSON.parse(body.m) : body.m;
      return typeof m === 'object' && m !== null && !Array.isArray(m) && typeof (m as JsonObject).type === 'string'
        ? m
        : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** What {@link createGossipValidation} needs from the node. */
export interface GossipValidationOptions {
  readonly chainId: string;
  readonly chain: Chain;
  readonly mempool: Mempool;
  /** Bounds of the queue of gossiped transactions waiting for admission. */
  readonly intake: { readonly maxTxs: number; readonly maxBytes: number };
  /** A gossiped transaction the mempool added (for subscribers). */
  readonly onAdmitted: (tx: SignedTx) => void;
  /** Admitted transactions of a batch that is not relayed as received (a mixed batch): this node gossips them. */
  readonly republish: (txs: readonly JsonObject[]) => void;
  /** Intake queue length, and transactions dropped because it was full (metrics). */
  readonly onIntakePending?: (txs: number) => void;
  readonly onIntakeDropped?: (txs: number) => void;
  readonly onError?: (err: unknown) => void;
  /**
   * Runs the admission of each slice of gossiped transactions, e.g. so that a block being built,
   * validated or imported goes first (`ConsensusPriority.intakeSlice`). Default: at once.
   */
  readonly admitSlice?: <T>(work: () => Promise<T>) => Promise<T>;
  /** Heights above our head a proposal or vote may be for (default 2). */
  readonly heightWindow?: number;
  /** A proposal or vote seen again within this many ms is a duplicate (default 1 000). */
  readonly dedupeMs?: number;
}

/** The node's gossip validation; see {@link createGossipValidation}. */
export interface GossipValidation {
  /** The peer network's `validateGossip`. */
  validate(kind: GossipKind, body: JsonObject, from: string, bytes: number): GossipVerdict | Promise<GossipVerdict>;
  /** The consensus message (JSON) of an accepted proposal or vote body. */
  consensusMessage(body: JsonObject): JsonObject | undefined;
  /** The transaction intake queue (gossiped batches waiting for admission). */
  readonly intake: TxIntake;
}

/** Creates the node's gossip validation (see the module comment). */
export function createGossipValidation(options: GossipValidationOptions): GossipValidation {
  const { chain, mempool, chainId } = options;
  const validators = chain.validators;
  const heightWindow = options.heightWindow ?? 2;
  const dedupeMs = options.dedupeMs ?? 1_000;
  const parsed = new WeakMap<JsonObject, unknown>();
  const verdicts = new WeakMap<readonly JsonObject[], (v: GossipVerdict) => void>();
  /** Consensus messages seen (their signed content and signer) → when. */
  const recent = new Map<string, number>();
  const RECENT_MAX = 50_000;

  /** Admits a gossiped batch (see `VERIFY_CHUNK`) and judges it. */
  const admit = async (jsons: readonly JsonObject[]): Promise<GossipVerdict> => {
    const txs: SignedTx[] = [];
    const wire: JsonObject[] = [];
    for (const json of jsons) {
      let tx: SignedTx;
      try {
        tx = txFromJson(json);
      } catch {
        return 'reject'; // malformed: the sender's node would have refused it
      }
      if (mempool.get(tx.id) !== undefined) continue; // known already
      txs.push(tx);
      wire.push(json);
    }
    let added = 0;
    let refused = 0;
    let bad = false;
    const admitted: JsonObject[] = [];
    for (let i = 0; i < txs.length; i += VERIFY_CHUNK) {
      // libsodium verifies on this thread: 512 signatures at once would hold it for ~30 ms.
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const slice = txs.slice(i, i + VERIFY_CHUNK);
      const results = await (options.admitSlice?.(() => mempool.addMany(slice)) ?? mempool.addMany(slice));
      results.forEach((r, j) => {
        if (isAitbcError(r)) {
          refused++;
          if (REJECTED_TX_CODES.has(r.code)) bad = true;
        } else if (r.status !== 'known') {
          added++;
          admitted.push(wire[i + j] as JsonObject);
          options.onAdmitted(slice[j] as SignedTx);
        }
      });
    }
    if (bad) return 'reject';
    if (added === 0) return 'ignore';
    if (refused === 0) return 'accept';
    options.republish(admitted);
    return 'ignore';
  };

  const intake = createTxIntake({
    maxTxs: options.intake.maxTxs,
    maxBytes: options.intake.maxBytes,
    admit: async (batch) => {
      let verdict: GossipVerdict = 'ignore';
      try {
        verdict = await admit(batch);
      } finally {
        verdicts.get(batch)?.(verdict);
        verdicts.delete(batch);
      }
    },
    ...(options.onIntakePending !== undefined ? { onPending: options.onIntakePending } : {}),
    ...(options.onIntakeDropped !== undefined ? { onDropped: options.onIntakeDropped } : {}),
    ...(options.onError !== undefined ? { onError: options.onError } : {}),
  });

  const seenRecently = (key: string): boolean => {
    const now = Date.now();
    const at = recent.get(key);
    if (at !== undefined && now - at < dedupeMs) return true;
    recent.delete(key);
    recent.set(key, now);
    if (recent.size > RECENT_MAX) {
      const oldest = recent.keys().next().value;
      if (oldest !== undefined) recent.delete(oldest);
    }
    return false;
  };

  const inWindow = (height: number) => {
    const head = chain.head.height;
    return height >= head && height <= head + heightWindow;
  };

  const validateVote = (m: JsonObject): GossipVerdict => {
    let vote: ReturnType<typeof decodeConsensusMessage>;
    try {
      vote = decodeConsensusMessage(m);
    } catch {
      return 'reject';
    }
    if (vote.type === 'proposal') return 'reject'; // a proposal under the vote kind
    // Not a validator: invalid at any height (no honest node relays it), so checked before the window.
    const signer = validators.byAddress(vote.validator);
    if (signer === undefined) return 'reject';
    if (!inWindow(vote.height)) return 'ignore';
    if (!verifyVoteSignature(chainId, vote, signer.publicKey)) return 'reject';
    const key = `${vote.type}/${vote.height}/${vote.round}/${vote.blockHash === null ? '' : toHex0x(vote.blockHash)}/${vote.validator}`;
    return seenRecently(key) ? 'ignore' : 'accept';
  };

  /**
   * A proposal: its envelope and block header only (the engine decodes and checks the whole block);
   * the signature of the scheduled proposer over (height, round, polRound, hash of the header).
   */
  const validateProposal = (m: JsonObject): GossipVerdict => {
    const { height, round, polRound, signature } = m as {
      height: number;
      round: number;
      polRound: number;
      signature: string;
    };
    if (
      Object.keys(m).length !== 6 ||
      !Number.isSafeInteger(height) ||
      height < 1 ||
      !Number.isSafeInteger(round) ||
      round < 0 ||
      !Number.isSafeInteger(polRound) ||
      polRound < -1 ||
      polRound >= round ||
      typeof signature !== 'string' ||
      !/^[0-9a-f]{128}$/.test(signature)
    )
      return 'reject';
    const block = m.block as JsonObject | null;
    if (typeof block !== 'object' || block === null || Array.isArray(block)) return 'reject';
    let hash: Uint8Array;
    try {
      const header = headerFromJson(block.header);
      if (header.height !== height || header.chainId !== chainId) return 'reject';
      hash = hashOfHeader(header);
    } catch {
      return 'reject';
    }
    if (!inWindow(height)) return 'ignore';
    const proposer = validators.byAddress(proposerFor(validators, height, round));
    if (proposer === undefined) return 'reject';
    const ok = verifyMessage(
      'proposal',
      chainId,
      proposalSigningBody(height, round, polRound, hash),
      hexToBytes(signature),
      proposer.publicKey,
    );
    if (!ok) return 'reject';
    return seenRecently(`proposal/${height}/${round}/${toHex0x(hash)}`) ? 'ignore' : 'accept';
  };

  return {
    intake,
    validate(kind, body, _from, bytes) {
      const value = parseGossip(kind, body);
      if (value === undefined) return 'reject';
      if (kind === 'tx') {
        const jsons = value as JsonObject[];
        return new Promise<GossipVerdict>((resolve) => {
          verdicts.set(jsons, resolve);
          // Queued by the size of its frame (what holding it costs, to within a small factor).
          if (!intake.offer(jsons, bytes)) {
            verdicts.delete(jsons);
            resolve('ignore');
          }
        });
      }
      const m = value as JsonObject;
      parsed.set(body, m);
      if (kind === 'vote') return m.type === 'proposal' ? 'reject' : validateVote(m);
      return m.type === 'proposal' ? validateProposal(m) : 'reject';
    },
    consensusMessage: (body) => parsed.get(body) as JsonObject | undefined,
  };
}
