import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AitbcError,
  addressFromPublicKey,
  bytesEqual,
  generateKeyPair,
  type KeyPair,
  signMessage,
  utf8ToBytes,
  verifyMessage,
} from '@aitbc/crypto';
import { LevelKVStore } from '@aitbc/storage-level';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FaultyKVStore } from '../../../test-support/faultyStore.ts';
import {
  accountKey,
  type Block,
  type BlockHeader,
  blockFromJson,
  blockFromStoreBytes,
  blockHash,
  blockJsonBytes,
  blockStoreBytes,
  blockToJson,
  type Commit,
  type Consensus,
  createChain,
  DEFAULT_PARAMS,
  encodeAccount,
  type Genesis,
  type KVStore,
  LedgerState,
  MemoryKVStore,
  precommitSigningBody,
  SignatureCache,
  signBlockHeader,
  signTx,
  txRoot,
  txToJson,
  type ValidatorSet,
  verifyStateProof,
} from '../src/index.js';

const CHAIN = 'aitbc-test';
const AIT = 10n ** 18n;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A test-only consensus: proposer = validators[(height + round) % n]; a commit needs > 2/3 of the power
 * in distinct, valid precommits. The real engine is @aitbc/consensus-poa.
 */
const testConsensus: Consensus = {
  verifyProposer(header: BlockHeader, set: ValidatorSet) {
    const expected = set.validators[(header.height + header.round) % set.validators.length]!.address;
    if (header.proposer !== expected) throw new AitbcError('CONSENSUS_WRONG_PROPOSER', 'not this round’s proposer');
  },
  verifyCommit(chainId: string, commit: Commit, set: ValidatorSet) {
    const seen = new Set<string>();
    let power = 0;
    for (const s of commit.signatures) {
      const v = set.byAddress(s.validator);
      if (v === undefined || seen.has(s.validator))
        throw new AitbcError('CONSENSUS_BAD_COMMIT', 'unknown or duplicate signer');
      if (
        !verifyMessage(
          'vote',
          chainId,
          precommitSigningBody(commit.height, commit.round, commit.blockHash),
          s.signature,
          v.publicKey,
        )
      ) {
        throw new AitbcError('CONSENSUS_BAD_COMMIT', 'bad precommit signature');
      }
      seen.add(s.validator);
      power += v.power;
    }
    if (power * 3 <= set.totalPower * 2) throw new AitbcError('CONSENSUS_BAD_COMMIT', 'not more than 2/3 of the power');
  },
};

async function network(store: KVStore = new MemoryKVStore(), signatureCache?: SignatureCache) {
  const vals = [generateKeyPair(), generateKeyPair(), generateKeyPair(), generateKeyPair()];
  const alice = generateKeyPair();
  const bob = generateKeyPair();
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: 1_700_000_000_000,
    validators: vals.map((v, i) => ({ publicKey: v.publicKey, power: 10, name: `v${i}` })),
    allocations: [{ address: addressFromPublicKey(alice.publicKey), amount: 100n * AIT }],
    params: DEFAULT_PARAMS,
  };
  const chain = createChain({
    store,
    genesis,
    consensus: testConsensus,
    ...(signatureCache === undefined ? {} : { signatureCache }),
  });
  await chain.open();
  const seedOf = (address: string) => vals.find((v) => addressFromPublicKey(v.publicKey) === address)!.seed;
  const proposerFor = (height: number, round: number) => chain.validators.validators[(height + round) % 4]!.address;
  const commitFor = (block: Block, signers = vals.slice(0, 3)): Commit => {
    const hash = blockHash(block.header);
    return {
      height: block.header.height,
      round: block.header.round,
      blockHash: hash,
      signatures: signers.map((s) => ({
        validator: addressFromPublicKey(s.publicKey),
        signature: signMessage(
          'vote',
          CHAIN,
          precommitSigningBody(block.header.height, block.header.round, hash),
          s.seed,
        ),
      })),
    };
  };
  let lastCommit: Commit | null = null;
  const produce = async (txs: ReturnType<typeof signTx>[] = [], round = 0) => {
    const height = chain.head.height + 1;
    const block = await chain.buildBlock({
      round,
      timestamp: chain.head.timestamp + 1000,
      proposerSeed: seedOf(proposerFor(height, round)),
      lastCommit,
      txs,
    });
    const commit = commitFor(block);
    await chain.importBlock(block, commit);
    lastCommit = commit;
    return { block, commit };
  };
  const transfer = (nonce: number, amount: bigint, from: KeyPair = alice, to: KeyPair = bob) =>
    signTx(
      {
        type: 'transfer',
        chainId: CHAIN,
        from: addressFromPublicKey(from.publicKey),
        nonce,
        fee: DEFAULT_PARAMS.minFee,
        to: addressFromPublicKey(to.publicKey),
        amount,
      },
      from.seed,
    );
  return {
    chain,
    genesis,
    vals,
    alice,
    bob,
    produce,
    transfer,
    commitFor,
    seedOf,
    proposerFor,
    getLastCommit: () => lastCommit,
  };
}

describe('chain', () => {
  it('builds, imports and serves blocks, transactions, accounts and proofs', async () => {
    const { chain, alice, bob, produce, transfer } = await network();
    expect(chain.head.height).toBe(0);
    const seen: number[] = [];
    chain.onBlock((b) => seen.push(b.header.height));
    const t1 = transfer(0, 5n * AIT);
    const { block } = await produce([t1, transfer(1, AIT)]);
    await produce();
    expect(chain.head.height).toBe(2);
    expect(seen).toEqual([1, 2]);
    const bobAddress = addressFromPublicKey(bob.publicKey);
    expect(await chain.account(bobAddress)).toEqual({ balance: 6n * AIT, nonce: 0 });
    expect((await chain.account(addressFromPublicKey(alice.publicKey))).nonce).toBe(2);
    expect(await chain.getTx(t1.id)).toMatchObject({ height: 1, index: 0 });
    expect(bytesEqual((await chain.getBlock(1))!.header.stateRoot, block.header.stateRoot)).toBe(true);
    expect((await chain.getBlock(blockHash(block.header)))!.header.height).toBe(1);
    expect((await chain.getCommit(1))!.signatures).toHaveLength(3);
    expect(await chain.getBlock(99)).toBeUndefined();
    const proof = await chain.accountProof(bobAddress);
    expect(
      verifyStateProof(
        chain.head.stateRoot,
        accountKey(bobAddress),
        encodeAccount({ balance: 6n * AIT, nonce: 0 }),
        proof,
      ),
    ).toBe(true);
    // by-address index, newest first, paged
    const aliceTxs = await chain.txsByAddress(addressFromPublicKey(alice.publicKey), { limit: 1 });
    expect(aliceTxs.items.map((i) => [i.height, i.index])).toEqual([[1, 1]]);
    const page2 = await chain.txsByAddress(addressFromPublicKey(alice.publicKey), {
      limit: 1,
      cursor: aliceTxs.nextCursor!,
    });
    expect(page2.items.map((i) => i.tx.id)).toEqual([t1.id]);
    expect(page2.nextCursor).toBeNull();
    expect((await chain.txsByAddress(bobAddress)).items).toHaveLength(2);
    expect((await chain.txsByAddress(addressFromPublicKey(generateKeyPair().publicKey))).items).toEqual([]);
    await expect(chain.txsByAddress(bobAddress, { cursor: 'nope' })).rejects.toMatchObject({ code: 'CHAIN_BAD_QUERY' });
    // wire round trip of a block
    expect(blockHash(blockFromJson(JSON.parse(JSON.stringify(blockToJson(block)))).header)).toEqual(
      blockHash(block.header),
    );
  });

  it('skips invalid transactions when building, and rejects them when importing', async () => {
    const { chain, produce, transfer, commitFor, seedOf, proposerFor } = await network();
    const good = transfer(0, AIT);
    const { block } = await produce([
      good,
      transfer(0, AIT) /* replay of nonce 0 */,
      transfer(1, 10_000n * AIT) /* overdraft */,
    ]);
    expect(block.txs).toHaveLength(1);
    // a proposer that includes a replayed transaction: the block is rejected, nothing changes
    const replay = await chain.buildBlock({
      round: 0,
      timestamp: chain.head.timestamp + 1000,
      proposerSeed: seedOf(proposerFor(2, 0)),
      lastCommit: (await chain.getCommit(1))!,
      txs: [],
    });
    const withoutRoot = { ...replay, txs: [good] };
    await expect(chain.importBlock(withoutRoot, commitFor(withoutRoot))).rejects.toMatchObject({
      code: 'CHAIN_BAD_TX_ROOT',
    });
    // the same replay in a block whose roots and signature are right for it
    const header = { ...replay.header, txRoot: txRoot([good.id]) };
    const forged = { ...replay, header, txs: [good], signature: signBlockHeader(header, seedOf(proposerFor(2, 0))) };
    await expect(chain.importBlock(forged, commitFor(forged))).rejects.toMatchObject({ code: 'CHAIN_BAD_TX_IN_BLOCK' });
    expect(chain.head.height).toBe(1);
    // the chain is unharmed: the next valid block imports
    await produce([transfer(1, AIT)]);
    expect(chain.head.height).toBe(2);
  });

  it('rejects a block with any header field changed, a wrong signature, or a weak commit', async () => {
    const { chain, produce, transfer, commitFor, seedOf, proposerFor, vals } = await network();
    await produce([transfer(0, AIT)]);
    const lastCommit = (await chain.getCommit(1))!;
    const block = await chain.buildBlock({
      round: 0,
      timestamp: chain.head.timestamp + 1000,
      proposerSeed: seedOf(proposerFor(2, 0)),
      lastCommit,
      txs: [transfer(1, AIT)],
    });
    const before = { height: chain.head.height, hash: chain.headHash };
    const tamper = async (header: Partial<BlockHeader>, code: string) => {
      const b = { ...block, header: { ...block.header, ...header } };
      await expect(chain.importBlock(b, commitFor(b))).rejects.toMatchObject({ code });
    };
    await tamper({ chainId: 'aitbc-other' }, 'CHAIN_WRONG_CHAIN');
    await tamper({ height: 3 }, 'CHAIN_BAD_HEIGHT');
    await tamper({ round: 1 }, 'CONSENSUS_WRONG_PROPOSER');
    await tamper({ timestamp: 1 }, 'CHAIN_BAD_TIMESTAMP');
    await tamper({ parentHash: new Uint8Array(32).fill(1) }, 'CHAIN_BAD_PARENT');
    await tamper({ stateRoot: new Uint8Array(32).fill(2) }, 'CHAIN_BAD_BLOCK_SIGNATURE');
    await tamper({ txRoot: new Uint8Array(32).fill(3) }, 'CHAIN_BAD_BLOCK_SIGNATURE');
    await tamper({ validatorsHash: new Uint8Array(32) }, 'CHAIN_BAD_VALIDATORS');
    await tamper({ lastCommitHash: new Uint8Array(32) }, 'CHAIN_BAD_BLOCK_SIGNATURE');
    const badSig = { ...block, signature: new Uint8Array(64) };
    await expect(chain.importBlock(badSig, commitFor(badSig))).rejects.toMatchObject({
      code: 'CHAIN_BAD_BLOCK_SIGNATURE',
    });
    await expect(chain.importBlock(block, commitFor(block, vals.slice(0, 2)))).rejects.toMatchObject({
      code: 'CONSENSUS_BAD_COMMIT',
    });
    await expect(
      chain.importBlock(block, { ...commitFor(block), blockHash: new Uint8Array(32) }),
    ).rejects.toMatchObject({ code: 'CHAIN_BAD_COMMIT' });
    await expect(chain.importBlock({ ...block, lastCommit: null }, commitFor(block))).rejects.toMatchObject({
      code: 'CHAIN_BAD_COMMIT',
    });
    expect(chain.head.height).toBe(before.height);
    expect(chain.headHash).toEqual(before.hash);
    // the untouched block still imports
    await chain.importBlock(block, commitFor(block));
    expect(chain.head.height).toBe(2);
  });

  it('persists everything in one batch and resumes from a real level database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aitbc-chain-'));
    dirs.push(dir);
    const net = await network(await LevelKVStore.open({ path: dir }));
    const first = net.transfer(0, AIT);
    await net.produce([first]);
    await net.produce([net.transfer(1, 2n * AIT)]);
    const head = { height: net.chain.head.height, hash: net.chain.headHash, root: net.chain.head.stateRoot };
    await net.chain.close();
    // blocks are stored in the binary form; the head block rewritten as JSON (older versions) still opens
    {
      const raw = await LevelKVStore.open({ path: dir });
      const key = new Uint8Array([...utf8ToBytes('chain/block/'), 0, 0, 0, 0, 0, 0, 0, 2]);
      const stored = (await raw.get(key))!;
      expect(stored[0]).toBe(1);
      await raw.put(key, blockJsonBytes(blockFromStoreBytes(stored)));
      await raw.close();
    }
    const reopened = createChain({
      store: await LevelKVStore.open({ path: dir }),
      genesis: net.genesis,
      consensus: testConsensus,
    });
    await reopened.open();
    expect(reopened.head.height).toBe(head.height);
    expect(reopened.headHash).toEqual(head.hash);
    expect(await reopened.account(addressFromPublicKey(net.bob.publicKey))).toEqual({ balance: 3n * AIT, nonce: 0 });
    // the indexes, read back from the database: by id, and by address (both ends of a transfer)
    expect(await reopened.getTx(first.id)).toMatchObject({ height: 1, index: 0 });
    for (const who of [net.alice, net.bob]) {
      const page = await reopened.txsByAddress(addressFromPublicKey(who.publicKey));
      expect(page.items.map((i) => [i.height, i.index])).toEqual([
        [2, 0],
        [1, 0],
      ]);
    }
    // and keeps going
    const height = 3;
    const block = await reopened.buildBlock({
      round: 0,
      timestamp: reopened.head.timestamp + 1000,
      proposerSeed: net.seedOf(net.proposerFor(height, 0)),
      lastCommit: (await reopened.getCommit(2))!,
      txs: [net.transfer(2, AIT)],
    });
    await reopened.importBlock(block, net.commitFor(block));
    expect(reopened.head.height).toBe(3);
    await reopened.close();
    // another genesis on the same store is refused
    const other = createChain({
      store: await LevelKVStore.open({ path: dir }),
      genesis: { ...net.genesis, chainId: 'aitbc-other' },
      consensus: testConsensus,
    });
    await expect(other.open()).rejects.toMatchObject({ code: 'CHAIN_GENESIS_MISMATCH' });
    await other.close();
    // a store written in another layout (here: one from before the layout key) is refused, untouched
    const oldLayout = await LevelKVStore.open({ path: dir });
    await oldLayout.del(utf8ToBytes('chain/format'));
    const headBefore = await oldLayout.get(utf8ToBytes('chain/head'));
    const refused = createChain({ store: oldLayout, genesis: net.genesis, consensus: testConsensus });
    await expect(refused.open()).rejects.toMatchObject({ code: 'CHAIN_STORE_FORMAT' });
    expect(await oldLayout.get(utf8ToBytes('chain/head'))).toEqual(headBefore);
    await refused.close();
  });

  it('serves the last few blocks from memory, older ones from the store, each block read once per address page', async () => {
    const store = new MemoryKVStore();
    const { chain, produce, transfer, alice } = await network(store);
    const built: Block[] = [];
    for (let n = 0; n < 6; n++) built.push((await produce([transfer(n, AIT)])).block);
    const blockReads = () =>
      get.mock.calls.filter(([key]) => new TextDecoder().decode(key as Uint8Array).startsWith('chain/block/')).length;
    const get = vi.spyOn(store, 'get');
    // the last four imported: the very objects, no store read
    for (let h = 3; h <= 6; h++) expect(await chain.getBlock(h)).toBe(built[h - 1]);
    expect(await chain.getBlock(blockHash(built[5]!.header))).toBe(built[5]);
    expect(blockReads()).toBe(0);
    // older: decoded from the store (an equal block), then kept
    const first = await chain.getBlock(1);
    expect(first).not.toBe(built[0]);
    expect(blockHash(first!.header)).toEqual(blockHash(built[0]!.header));
    expect(first!.txs.map((t) => t.id)).toEqual(built[0]!.txs.map((t) => t.id));
    expect(await chain.getBlock(1)).toBe(first);
    expect(blockReads()).toBe(1);
    // a page over six blocks reads the two evicted ones once each
    get.mockClear();
    const page = await chain.txsByAddress(addressFromPublicKey(alice.publicKey), { limit: 10 });
    expect(page.items.map((i) => i.height)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(blockReads()).toBe(2);
    get.mockRestore();
  });

  it('executes a block once per node: importing a built or validated block reuses its staged state', async () => {
    const net = await network();
    const { chain, genesis, transfer, commitFor, seedOf, proposerFor, bob } = net;
    // A second node over the same genesis builds the proposals; this one validates them.
    const other = createChain({ store: new MemoryKVStore(), genesis, consensus: testConsensus });
    await other.open();
    const executions = vi.spyOn(LedgerState.prototype, 'flush');
    try {
      // The proposer imports its own block without executing it again.
      await net.produce([transfer(0, AIT)]);
      expect(executions).toHaveBeenCalledTimes(1);
      const [b1, c1] = [(await chain.getBlock(1))!, (await chain.getCommit(1))!];
      await other.importBlock(b1, c1); // executed: this node never saw it
      expect(executions).toHaveBeenCalledTimes(2);
      // Two competing proposals for height 2, both validated here, then one is decided.
      const propose = (round: number, txs: ReturnType<typeof transfer>[]) =>
        other.buildBlock({
          round,
          timestamp: other.head.timestamp + 1000,
          proposerSeed: seedOf(proposerFor(2, round)),
          lastCommit: c1,
          txs,
        });
      const r0 = await propose(0, [transfer(1, 2n * AIT)]);
      const r1 = await propose(1, [transfer(1, 3n * AIT)]);
      expect(executions).toHaveBeenCalledTimes(4);
      await chain.validateBlock(r0);
      await chain.validateBlock(r1);
      expect(executions).toHaveBeenCalledTimes(6);
      await chain.importBlock(r1, commitFor(r1));
      expect(executions).toHaveBeenCalledTimes(6); // reused
      expect(chain.head.stateRoot).toEqual(r1.header.stateRoot);
      expect(await chain.account(addressFromPublicKey(bob.publicKey))).toEqual({ balance: 4n * AIT, nonce: 0 });
      expect(await chain.getTx(r1.txs[0]!.id)).toMatchObject({ height: 2, index: 0 });
      // The losing proposal is for a height that is gone; a tampered copy of the winner is not reused.
      await expect(chain.importBlock(r0, commitFor(r0))).rejects.toMatchObject({ code: 'CHAIN_BAD_HEIGHT' });
      await other.importBlock(r1, commitFor(r1));
      expect(executions).toHaveBeenCalledTimes(6); // other built r1: reused too
      const r3 = await other.buildBlock({
        round: 0,
        timestamp: other.head.timestamp + 1000,
        proposerSeed: seedOf(proposerFor(3, 0)),
        lastCommit: commitFor(r1),
        txs: [transfer(2, AIT)],
      });
      await chain.validateBlock(r3);
      const swapped = { ...r3, txs: [transfer(2, 5n * AIT)] };
      await expect(chain.importBlock(swapped, commitFor(swapped))).rejects.toMatchObject({
        code: 'CHAIN_BAD_TX_ROOT',
      });
      expect(chain.head.height).toBe(2);
      await chain.importBlock(r3, commitFor(r3));
      expect(executions).toHaveBeenCalledTimes(8); // r3 built on other, validated here: once each
      expect(chain.head.stateRoot).toEqual(r3.header.stateRoot);
    } finally {
      executions.mockRestore();
    }
  });

  it('checks a validated proposal once: the same (frozen) object imports without its checks repeated, a changed copy is checked in full', async () => {
    const net = await network();
    const { chain, genesis, transfer, commitFor, seedOf, proposerFor } = net;
    const other = createChain({ store: new MemoryKVStore(), genesis, consensus: testConsensus });
    await other.open();
    const checks = vi.spyOn(testConsensus, 'verifyProposer');
    try {
      const built = await other.buildBlock({
        round: 0,
        timestamp: other.head.timestamp + 1000,
        proposerSeed: seedOf(proposerFor(1, 0)),
        lastCommit: null,
        txs: [transfer(0, AIT)],
      });
      expect(Object.isFrozen(built) && Object.isFrozen(built.txs) && Object.isFrozen(built.header)).toBe(true);
      // As gossiped: decoded from the wire (frozen), validated, then decided.
      const proposal = blockFromJson(JSON.parse(JSON.stringify(blockToJson(built))));
      await chain.validateBlock(proposal);
      expect(checks).toHaveBeenCalledTimes(1);
      // A copy (not frozen, not the validated object) with another signature is checked and refused.
      const forged = { ...proposal, signature: signBlockHeader(proposal.header, seedOf(proposerFor(1, 1))) };
      await expect(chain.importBlock(forged, commitFor(forged))).rejects.toMatchObject({
        code: 'CHAIN_BAD_BLOCK_SIGNATURE',
      });
      expect(checks).toHaveBeenCalledTimes(2);
      await chain.importBlock(proposal, commitFor(proposal));
      expect(checks).toHaveBeenCalledTimes(2); // not checked again
      expect(chain.head.height).toBe(1);
      // A block this chain built is checked at import (building runs none of the checks).
      const own = await chain.buildBlock({
        round: 0,
        timestamp: chain.head.timestamp + 1000,
        proposerSeed: seedOf(proposerFor(3, 0)), // not the proposer of height 2
        lastCommit: commitFor(proposal),
        txs: [],
      });
      await expect(chain.importBlock(own, commitFor(own))).rejects.toMatchObject({ code: 'CONSENSUS_WRONG_PROPOSER' });
      expect(checks).toHaveBeenCalledTimes(3);
    } finally {
      checks.mockRestore();
    }
  });

  it('account: read once per head, frozen, and read afresh once the head moves', async () => {
    const { chain, produce, transfer, alice, bob } = await network();
    const addr = addressFromPublicKey(bob.publicKey);
    const before = await chain.account(addr);
    expect(await chain.account(addr)).toBe(before); // served from memory at the same head
    expect(Object.isFrozen(before)).toBe(true);
    await produce([transfer(0, AIT)]);
    const after = await chain.account(addr);
    expect(after.balance).toBe(before.balance + AIT);
    expect((await chain.account(addressFromPublicKey(alice.publicKey))).nonce).toBe(1);
  });

  it('blockJsonBytes: the JSON encoding, made once for a frozen block and afresh for a plain one', async () => {
    const { produce, transfer } = await network();
    const { block } = await produce([transfer(0, AIT)]);
    const text = JSON.stringify(blockToJson(block));
    expect(new TextDecoder().decode(blockJsonBytes(block))).toBe(text);
    expect(blockJsonBytes(block)).toBe(blockJsonBytes(block)); // frozen: cached
    const decoded = blockFromJson(JSON.parse(text));
    expect(new TextDecoder().decode(blockJsonBytes(decoded))).toBe(text);
    const plain = { ...block };
    expect(blockJsonBytes(plain)).not.toBe(blockJsonBytes(plain));
    expect(new TextDecoder().decode(blockJsonBytes(plain))).toBe(text);
  });

  it('blockStoreBytes: a compact binary form that decodes to the same block, reads the older JSON form, and refuses damaged bytes', async () => {
    const { produce, transfer, alice, bob } = await network();
    const txs = Array.from({ length: 20 }, (_, n) => transfer(n, BigInt(n + 1) * AIT));
    const { block } = await produce(txs);
    const wire = JSON.stringify(blockToJson(block));
    const bytes = blockStoreBytes(block);
    expect(bytes[0]).toBe(1);
    expect(bytes.length).toBeLessThan(blockJsonBytes(block).length * 0.6);
    expect(blockStoreBytes(block)).toBe(bytes); // frozen: encoded once
    const plain = { ...block };
    expect(blockStoreBytes(plain)).not.toBe(blockStoreBytes(plain));
    expect(blockStoreBytes(plain)).toEqual(bytes);
    const back = blockFromStoreBytes(bytes);
    expect(JSON.stringify(blockToJson(back))).toBe(wire);
    expect(blockHash(back.header)).toEqual(blockHash(block.header));
    expect(back.txs.map((t) => t.id)).toEqual(block.txs.map((t) => t.id));
    // the JSON older versions stored
    expect(JSON.stringify(blockToJson(blockFromStoreBytes(blockJsonBytes(block))))).toBe(wire);

    // transactions of other types (and transfers of other chains) go as JSON records, in order
    const lock = signTx(
      {
        type: 'escrow.lock',
        chainId: CHAIN,
        from: addressFromPublicKey(alice.publicKey),
        nonce: 20,
        fee: DEFAULT_PARAMS.minFee,
        jobId: 'job_1',
        amount: AIT,
        coordinator: addressFromPublicKey(bob.publicKey),
        expiresAtHeight: 100,
      },
      alice.seed,
    );
    const foreign = signTx(
      {
        type: 'transfer',
        chainId: 'aitbc-other',
        from: addressFromPublicKey(alice.publicKey),
        nonce: 0,
        fee: DEFAULT_PARAMS.minFee,
        to: addressFromPublicKey(bob.publicKey),
        amount: 1n,
      },
      alice.seed,
    );
    const mixedJson = {
      ...blockToJson(block),
      txs: [txToJson(txs[0]!), txToJson(lock), txToJson(foreign), txToJson(txs[1]!)],
    };
    const mixed = blockFromJson(JSON.parse(JSON.stringify(mixedJson)));
    const mixedBack = blockFromStoreBytes(blockStoreBytes(mixed));
    expect(blockToJson(mixedBack)).toEqual(mixedJson);
    expect(mixedBack.txs.map((t) => t.body.type)).toEqual(['transfer', 'escrow.lock', 'transfer', 'transfer']);

    // damaged bytes: a typed error, never a wrong block
    const malformed = { code: 'CHAIN_BLOCK_MALFORMED' };
    const withByte = (at: number, value: number) => {
      const copy = bytes.slice();
      copy[at] = value;
      return copy;
    };
    expect(() => blockFromStoreBytes(new Uint8Array(0))).toThrow(expect.objectContaining(malformed));
    expect(() => blockFromStoreBytes(utf8ToBytes('{"header":'))).toThrow(expect.objectContaining(malformed)); // older JSON, cut
    expect(() => blockFromStoreBytes(withByte(0, 2))).toThrow(expect.objectContaining(malformed)); // unknown format
    expect(() => blockFromStoreBytes(bytes.subarray(0, bytes.length - 1))).toThrow(expect.objectContaining(malformed));
    expect(() => blockFromStoreBytes(bytes.subarray(0, 40))).toThrow(expect.objectContaining(malformed));
    const trailing = new Uint8Array(bytes.length + 1);
    trailing.set(bytes);
    expect(() => blockFromStoreBytes(trailing)).toThrow(expect.objectContaining(malformed));
    expect(() => blockFromStoreBytes(withByte(5, 0x78))).toThrow(expect.objectContaining(malformed)); // header not JSON
    const metaLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(1);
    const firstTx = 1 + 4 + metaLength + 4;
    expect(() => blockFromStoreBytes(withByte(firstTx, 9))).toThrow(expect.objectContaining(malformed)); // unknown kind
    // a changed sender (its first character after "ait1") no longer matches the key: refused by the tx decoder
    expect(() => blockFromStoreBytes(withByte(firstTx + 6, bytes[firstTx + 6] === 0x71 ? 0x70 : 0x71))).toThrow(
      AitbcError,
    );
  });

  it('verifies each signature once per node: validation records it, import skips cached ones, forgets included ones, still checks a new signature', async () => {
    const cache = new SignatureCache();
    const { chain, produce, transfer, commitFor, seedOf, proposerFor, getLastCommit } = await network(
      new MemoryKVStore(),
      cache,
    );
    // A round-0 block on the head, built but not imported.
    const draftOf = (txs: ReturnType<typeof transfer>[]) =>
      chain.buildBlock({
        round: 0,
        timestamp: chain.head.timestamp + 1000,
        proposerSeed: seedOf(proposerFor(chain.head.height + 1, 0)),
        lastCommit: getLastCommit(),
        txs,
      });
    const t0 = transfer(0, AIT);
    await chain.validateBlock(await draftOf([t0]));
    expect(cache.has(t0.id, t0.signature)).toBe(true); // verified by validation, recorded
    await produce([t0]);
    expect(chain.head.height).toBe(1);
    expect(cache.has(t0.id, t0.signature)).toBe(false); // included: its nonce is used, the entry is dropped
    // The id of t1 is cached with its real signature; the same id with another signature is checked.
    const t1 = transfer(1, AIT);
    cache.add(t1.id, t1.signature);
    const forged = { ...t1, signature: transfer(2, AIT).signature };
    const draft = await draftOf([forged]);
    await expect(chain.importBlock(draft, commitFor(draft))).rejects.toMatchObject({
      code: 'CHAIN_BAD_SIGNATURE',
      details: { index: 0 },
    });
    expect(chain.head.height).toBe(1);
    await produce([t1]); // the cached (id, signature) imports
    expect(chain.head.height).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('a store that cannot write: CHAIN_STORE_FAILED naming the cause, the head unchanged, the same block imports once it writes again', async () => {
    const store = new FaultyKVStore(new MemoryKVStore());
    const { chain, produce, transfer, commitFor, seedOf, proposerFor, getLastCommit } = await network(store);
    await produce([transfer(0, AIT)]);
    const before = chain.head;
    const block = await chain.buildBlock({
      round: 0,
      timestamp: chain.head.timestamp + 1000,
      proposerSeed: seedOf(proposerFor(2, 0)),
      lastCommit: getLastCommit(),
      txs: [transfer(1, 2n * AIT)],
    });
    store.failWrites();
    const failure = await chain.importBlock(block, commitFor(block)).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      code: 'CHAIN_STORE_FAILED',
      details: { height: 2, storeCode: 'STORAGE_FULL' },
      cause: { code: 'STORAGE_FULL' },
    });
    expect((failure as Error).message).toBe(
      'could not store block 2: no space left on device (ENOSPC) at /test/000003.log',
    );
    expect(chain.head).toEqual(before);
    // a retry while the store still fails: the same local error, never an invalid-block code
    await expect(chain.importBlock(block, commitFor(block))).rejects.toMatchObject({ code: 'CHAIN_STORE_FAILED' });
    store.heal();
    await store.reopen();
    const commit = commitFor(block);
    await chain.importBlock(block, commit);
    expect(chain.head.height).toBe(2);
    expect(bytesEqual(chain.head.stateRoot, block.header.stateRoot)).toBe(true);
    // and the chain goes on: the state it executes on is the state that was stored
    const next = await chain.buildBlock({
      round: 0,
      timestamp: chain.head.timestamp + 1000,
      proposerSeed: seedOf(proposerFor(3, 0)),
      lastCommit: commit,
      txs: [transfer(2, AIT)],
    });
    expect(next.txs).toHaveLength(1);
    await chain.importBlock(next, commitFor(next));
    expect(chain.head.height).toBe(3);
  });
});
