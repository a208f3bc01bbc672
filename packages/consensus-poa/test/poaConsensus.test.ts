import {
  type Block,
  blockHash,
  type Commit,
  createChain,
  createValidatorSet,
  DEFAULT_PARAMS,
  type Genesis,
  MemoryKVStore,
  precommitSigningBody,
} from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair, type KeyPair, signMessage } from '@aitbc/crypto';
import { describe, expect, it } from 'vitest';
import { createPoaConsensus, MAX_SCHEDULE, proposerFor, proposerSchedule } from '../src/index.js';

const CHAIN = 'aitbc-poa';
const keys = (n: number) => Array.from({ length: n }, () => generateKeyPair());
const setOf = (ks: KeyPair[], powers: number[]) =>
  createValidatorSet(ks.map((k, i) => ({ publicKey: k.publicKey, power: powers[i]!, name: `v${i}` })));

describe('proposer schedule', () => {
  it('gives each validator exactly its power in proposals per cycle, spread out', () => {
    const ks = keys(4);
    const set = setOf(ks, [1, 2, 3, 4]);
    const schedule = proposerSchedule(set);
    expect(schedule).toHaveLength(10);
    for (const v of set.validators) expect(schedule.filter((a) => a === v.address)).toHaveLength(v.power);
    // the heaviest validator never proposes four times in a row
    const heaviest = set.validators.find((v) => v.power === 4)!.address;
    expect(schedule.join(',')).not.toContain([heaviest, heaviest, heaviest, heaviest].join(','));
  });

  it('is deterministic, reduces by the GCD, and scales huge powers into a bounded cycle', () => {
    const ks = keys(3);
    expect(proposerSchedule(setOf(ks, [10, 20, 30]))).toEqual(proposerSchedule(setOf(ks, [1, 2, 3])));
    const big = proposerSchedule(setOf(ks, [2 ** 39, 2 ** 38 + 1, 7]));
    expect(big.length).toBeLessThanOrEqual(MAX_SCHEDULE + 3);
    expect(new Set(big).size).toBe(3); // the tiny validator still proposes
  });

  it('moves to the next proposer on the next round', () => {
    const set = setOf(keys(4), [1, 1, 1, 1]);
    const a = proposerFor(set, 5, 0);
    const b = proposerFor(set, 5, 1);
    expect(a).not.toBe(b);
    expect(proposerFor(set, 6, 0)).toBe(b);
  });
});

describe('commit verification', () => {
  const ks = keys(4);
  const set = setOf(ks, [10, 10, 10, 30]);
  const hash = new Uint8Array(32).fill(9);
  const consensus = createPoaConsensus();
  const sig = (k: KeyPair, h = hash, chain = CHAIN) => ({
    validator: addressFromPublicKey(k.publicKey),
    signature: signMessage('vote', chain, precommitSigningBody(3, 0, h), k.seed),
  });
  const commit = (signatures: Commit['signatures']): Commit => ({ height: 3, round: 0, blockHash: hash, signatures });
  const heavy = ks[3]!;

  it('accepts more than 2/3 of the power (not a count of validators)', () => {
    expect(() => consensus.verifyCommit(CHAIN, commit([sig(heavy), sig(ks[0]!), sig(ks[1]!)]), set)).not.toThrow(); // 50 of 60
    expect(() => consensus.verifyCommit(CHAIN, commit([sig(heavy), sig(ks[0]!)]), set)).toThrow(
      expect.objectContaining({ code: 'CONSENSUS_INSUFFICIENT_POWER' }),
    ); // exactly 2/3
    expect(() => consensus.verifyCommit(CHAIN, commit([sig(ks[0]!), sig(ks[1]!), sig(ks[2]!)]), set)).toThrow(
      expect.objectContaining({ code: 'CONSENSUS_INSUFFICIENT_POWER' }),
    ); // 30 of 60
    expect(() => consensus.verifyCommit(CHAIN, commit([sig(heavy)]), set)).toThrow(
      expect.objectContaining({ code: 'CONSENSUS_INSUFFICIENT_POWER' }),
    ); // exactly 1/2
  });

  it.each([
    ['a duplicate signer', () => commit([sig(heavy), sig(heavy), sig(ks[0]!)]), 'CONSENSUS_DUPLICATE_SIGNATURE'],
    ['a non-validator', () => commit([sig(heavy), sig(generateKeyPair())]), 'CONSENSUS_NOT_VALIDATOR'],
    [
      'a signature for another block',
      () => commit([sig(heavy), sig(ks[0]!, new Uint8Array(32))]),
      'CONSENSUS_BAD_SIGNATURE',
    ],
    [
      'a signature for another chain',
      () => commit([sig(heavy), sig(ks[0]!, hash, 'aitbc-other')]),
      'CONSENSUS_BAD_SIGNATURE',
    ],
  ])('rejects %s', (_name, make, code) => {
    expect(() => consensus.verifyCommit(CHAIN, make(), set)).toThrow(expect.objectContaining({ code }));
  });
});

describe('with the real chain', () => {
  it('finalizes blocks proposed by the scheduled validator and refuses others', async () => {
    const ks = keys(4);
    const powers = [5, 10, 15, 20];
    const genesis: Genesis = {
      chainId: CHAIN,
      genesisTime: 1_700_000_000_000,
      validators: ks.map((k, i) => ({ publicKey: k.publicKey, power: powers[i]!, name: `v${i}` })),
      allocations: [],
      params: DEFAULT_PARAMS,
    };
    const consensus = createPoaConsensus();
    const chain = createChain({ store: new MemoryKVStore(), genesis, consensus });
    await chain.open();
    const seedOf = (address: string) => ks.find((k) => addressFromPublicKey(k.publicKey) === address)!.seed;
    const commitFor = (block: Block): Commit => {
      const hash = blockHash(block.header);
      return {
        height: block.header.height,
        round: block.header.round,
        blockHash: hash,
        signatures: ks.slice(1).map((k) => ({
          validator: addressFromPublicKey(k.publicKey),
          signature: signMessage('vote', CHAIN, precommitSigningBody(block.header.height, 0, hash), k.seed),
        })),
      };
    };
    let lastCommit: Commit | null = null;
    for (let height = 1; height <= 12; height++) {
      const proposer = consensus.proposerFor(chain.validators, height, 0);
      const wrong = chain.validators.validators.find((v) => v.address !== proposer)!.address;
      const bad = await chain.buildBlock({
        round: 0,
        timestamp: chain.head.timestamp + 1000,
        proposerSeed: seedOf(wrong),
        lastCommit,
        txs: [],
      });
      await expect(chain.importBlock(bad, commitFor(bad))).rejects.toMatchObject({ code: 'CONSENSUS_WRONG_PROPOSER' });
      const block = await chain.buildBlock({
        round: 0,
        timestamp: chain.head.timestamp + 1000,
        proposerSeed: seedOf(proposer),
        lastCommit,
        txs: [],
      });
      lastCommit = commitFor(block);
      await chain.importBlock(block, lastCommit);
    }
    expect(chain.head.height).toBe(12);
  });
});
