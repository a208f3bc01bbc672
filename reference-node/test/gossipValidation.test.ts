/**
 * The node's gossip verdicts over a real chain (level database on disk) and mempool: transactions judged
 * by what the mempool did with them, votes and proposals by signer, signature, height and novelty; the
 * frame limit and batch budget from the chain params.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  blockHash,
  type Chain,
  createChain,
  createMempool,
  DEFAULT_PARAMS,
  type Genesis,
  headerFromJson,
  type Mempool,
  SignatureCache,
  type SignedTx,
  signTx,
  txToJson,
} from '@aitbc/chain-core';
import {
  createPoaConsensus,
  encodeConsensusMessage,
  proposalSigningBody,
  proposerFor,
  signVote,
} from '@aitbc/consensus-poa';
import { addressFromPublicKey, bytesToHex, generateKeyPair, type KeyPair, signMessage } from '@aitbc/crypto';
import type { JsonObject } from '@aitbc/rpc';
import { LevelKVStore } from '@aitbc/storage-level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGossipValidation,
  type GossipValidation,
  MAX_TX_BATCH,
  peerFrameLimit,
  txGossipBatches,
} from '../src/gossipValidation.js';

const chainId = 'aitbc-gossip-test';
const keys: KeyPair[] = [generateKeyPair(), generateKeyPair(), generateKeyPair(), generateKeyPair()];
const faucet = generateKeyPair();
const faucetAddress = addressFromPublicKey(faucet.publicKey);
const genesis: Genesis = {
  chainId,
  genesisTime: Date.now(),
  validators: keys.map((k, i) => ({ publicKey: k.publicKey, power: 1, name: `v${i}` })),
  allocations: [{ address: faucetAddress, amount: 10n ** 24n }],
  params: DEFAULT_PARAMS,
};
const dir = mkdtempSync(join(tmpdir(), 'aitbc-gossip-validation-'));
let store: LevelKVStore;
let chain: Chain;
let mempool: Mempool;
let gossip: GossipValidation;
const admitted: SignedTx[] = [];
const republished: JsonObject[] = [];

beforeAll(async () => {
  store = await LevelKVStore.open({ path: join(dir, 'chain') });
  const signatureCache = new SignatureCache();
  chain = createChain({ store, genesis, consensus: createPoaConsensus(), signatureCache });
  await chain.open();
  mempool = createMempool({ chainId, minFee: DEFAULT_PARAMS.minFee, account: (a) => chain.account(a), signatureCache });
  gossip = createGossipValidation({
    chainId,
    chain,
    mempool,
    intake: { maxTxs: 10_000, maxBytes: 64 << 20 },
    onAdmitted: (tx) => admitted.push(tx),
    republish: (txs) => republished.push(...txs),
  });
});
afterAll(async () => {
  await chain?.close();
  rmSync(dir, { recursive: true, force: true });
});

let nonce = 0;
function transfer(from: KeyPair = faucet, n = nonce++): JsonObject {
  const tx = signTx(
    {
      type: 'transfer',
      chainId,
      from: addressFromPublicKey(from.publicKey),
      nonce: n,
      fee: DEFAULT_PARAMS.minFee,
      to: faucetAddress,
      amount: 1n,
    },
    from.seed,
  );
  return txToJson(tx) as JsonObject;
}
function badSignature(tx: JsonObject): JsonObject {
  const s = tx.signature as string;
  return { ...tx, signature: `${s.slice(0, -2)}${s.endsWith('00') ? '01' : '00'}` };
}
const txBody = (txs: JsonObject[]) => ({ txs }) as unknown as JsonObject;
const validate = (kind: 'tx' | 'vote' | 'proposal', body: JsonObject) =>
  gossip.validate(kind, body, 'ab'.repeat(32), JSON.stringify(body).length);

function vote(signer: KeyPair, height: number, options: { as?: string; round?: number } = {}): JsonObject {
  const address = options.as ?? addressFromPublicKey(signer.publicKey);
  const v = signVote(chainId, 'prevote', height, options.round ?? 0, null, address, signer.seed);
  return { m: encodeConsensusMessage(v), s: `s${Math.random()}` } as unknown as JsonObject;
}

async function proposal(height: number, round: number, signer?: KeyPair): Promise<JsonObject> {
  const scheduled = proposerFor(chain.validators, height, round);
  const zero = `0x${'00'.repeat(32)}`;
  const header = {
    chainId,
    height,
    round,
    timestamp: Date.now(),
    parentHash: zero,
    proposer: scheduled,
    txRoot: zero,
    stateRoot: zero,
    validatorsHash: zero,
    lastCommitHash: zero,
  };
  const hash = blockHash(headerFromJson(header));
  const key = signer ?? (keys.find((k) => addressFromPublicKey(k.publicKey) === scheduled) as KeyPair);
  const signature = bytesToHex(
    signMessage('proposal', chainId, proposalSigningBody(height, round, -1, hash), key.seed),
  );
  const block = { header, txs: [], lastCommit: null, signature: '00'.repeat(64) };
  const m = { type: 'proposal', height, round, polRound: -1, block, signature };
  return { m, s: `s${Math.random()}` } as unknown as JsonObject;
}

describe('gossiped transactions', () => {
  it('a batch the mempool admits in full is accepted; the same again is ignored', async () => {
    const batch = [transfer(), transfer()];
    expect(await validate('tx', txBody(batch))).toBe('accept');
    expect(admitted.length).toBe(2);
    expect(await validate('tx', txBody(batch))).toBe('ignore');
  });

  it('a bad signature or an undecodable transaction rejects the batch; nothing of it is admitted', async () => {
    const before = mempool.size;
    expect(await validate('tx', txBody([badSignature(transfer(generateKeyPair(), 0))]))).toBe('reject');
    expect(await validate('tx', txBody([{ junk: 1 } as JsonObject]))).toBe('reject');
    expect(await validate('tx', { junk: 1 } as JsonObject)).toBe('reject');
    expect(
      await validate('tx', txBody(Array.from({ length: MAX_TX_BATCH + 1 }, () => transfer(generateKeyPair(), 0)))),
    ).toBe('reject');
    expect(mempool.size).toBe(before);
  });

  it('a mixed batch is ignored and its admitted transactions are re-published by the node', async () => {
    const good = transfer();
    const broke = transfer(generateKeyPair(), 0); // valid signature, no funds
    expect(await validate('tx', txBody([good, broke]))).toBe('ignore');
    expect(republished).toEqual([good]);
  });
});

describe('gossiped votes and proposals', () => {
  const next = () => chain.head.height + 1;

  it('a vote signed by a validator for the next height is accepted once; its copies are ignored', () => {
    const body = vote(keys[1] as KeyPair, next());
    expect(validate('vote', body)).toBe('accept');
    expect(gossip.consensusMessage(body)).toEqual(body.m);
    expect(validate('vote', { ...body, s: 'another envelope' })).toBe('ignore');
  });

  it('a vote from a non-validator, or claiming a validator with a bad signature, is rejected', () => {
    expect(validate('vote', vote(generateKeyPair(), next()))).toBe('reject');
    const claimed = addressFromPublicKey((keys[2] as KeyPair).publicKey);
    expect(validate('vote', vote(generateKeyPair(), next(), { as: claimed }))).toBe('reject');
    expect(validate('vote', { m: { type: 'prevote', junk: 1 }, s: 'x' } as unknown as JsonObject)).toBe('reject');
  });

  it('a vote far from our height is ignored, not relayed', () => {
    expect(validate('vote', vote(keys[0] as KeyPair, next() + 5))).toBe('ignore');
  });

  it('a vote from a non-validator is rejected at any height (a stale or far height does not excuse it)', () => {
    expect(validate('vote', vote(generateKeyPair(), next() + 100_000))).toBe('reject');
  });

  it('a proposal signed by the scheduled proposer is accepted; by anyone else rejected; far ahead ignored', async () => {
    expect(validate('proposal', await proposal(next(), 3))).toBe('accept');
    expect(validate('proposal', await proposal(next(), 4, generateKeyPair()))).toBe('reject');
    const wrongValidator = keys.find(
      (k) => addressFromPublicKey(k.publicKey) !== proposerFor(chain.validators, next(), 5),
    ) as KeyPair;
    expect(validate('proposal', await proposal(next(), 5, wrongValidator))).toBe('reject');
    expect(validate('proposal', await proposal(next() + 10, 0))).toBe('ignore');
    expect(validate('vote', await proposal(next(), 6))).toBe('reject'); // a proposal under the vote kind
  });
});

describe('limits from the chain params', () => {
  it('the frame limit is a maximal block plus its envelope: 4.3 MiB by default, far below 64 MiB', () => {
    const limit = peerFrameLimit(DEFAULT_PARAMS, 4);
    expect(limit).toBeGreaterThan(DEFAULT_PARAMS.maxBlockBytes);
    expect(limit).toBeLessThan(DEFAULT_PARAMS.maxBlockBytes + 512 * 1024);
  });

  it('transaction batches are cut at 512 transactions and at the byte budget', () => {
    const txs = Array.from({ length: 1_100 }, () => transfer());
    expect(txGossipBatches(txs, 1 << 30).map((b) => b.length)).toEqual([512, 512, 76]);
    const size = Math.max(...txs.slice(0, 10).map((t) => JSON.stringify(t).length + 1));
    const batches = txGossipBatches(txs.slice(0, 10), size * 3);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(batches.flat()).toEqual(txs.slice(0, 10));
  });
});
