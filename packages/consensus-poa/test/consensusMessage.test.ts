import {
  blockHash,
  createChain,
  DEFAULT_PARAMS,
  type Genesis,
  MemoryKVStore,
  precommitSigningBody,
} from '@aitbc/chain-core';
import { addressFromPublicKey, publicKeyFromSeed, sha256, utf8ToBytes, verifyMessage } from '@aitbc/crypto';
import { describe, expect, it } from 'vitest';
import {
  createPoaConsensus,
  decodeConsensusMessage,
  encodeConsensusMessage,
  proposerFor,
  signProposal,
  signVote,
  verifyProposalSignature,
  verifyVoteSignature,
} from '../src/index.js';

const seed = sha256(utf8ToBytes('message-test'));
const address = addressFromPublicKey(publicKeyFromSeed(seed));
const genesis: Genesis = {
  chainId: 'aitbc-msg',
  genesisTime: 1_700_000_000_000,
  validators: [{ publicKey: publicKeyFromSeed(seed), power: 1, name: 'v0' }],
  allocations: [],
  params: DEFAULT_PARAMS,
};

async function proposal() {
  const chain = createChain({ store: new MemoryKVStore(), genesis, consensus: createPoaConsensus() });
  await chain.open();
  expect(proposerFor(chain.validators, 1, 2)).toBe(address);
  const block = await chain.buildBlock({
    round: 2,
    timestamp: genesis.genesisTime + 1,
    proposerSeed: seed,
    lastCommit: null,
    txs: [],
  });
  return signProposal(genesis.chainId, block, 2, 1, seed);
}

describe('consensus messages', () => {
  it('round-trip through gossip JSON, and their signatures verify afterwards', async () => {
    const p = await proposal();
    const back = decodeConsensusMessage(JSON.parse(JSON.stringify(encodeConsensusMessage(p))));
    expect(back).toEqual(p);
    expect(back.type === 'proposal' && verifyProposalSignature(genesis.chainId, back, publicKeyFromSeed(seed))).toBe(
      true,
    );
    for (const hash of [p.blockHash, null]) {
      const v = signVote(genesis.chainId, 'prevote', 1, 2, hash, address, seed);
      const w = decodeConsensusMessage(JSON.parse(JSON.stringify(encodeConsensusMessage(v))));
      expect(w).toEqual(v);
      expect(w.type === 'prevote' && verifyVoteSignature(genesis.chainId, w, publicKeyFromSeed(seed))).toBe(true);
      expect(w.type === 'prevote' && verifyVoteSignature('aitbc-other', w, publicKeyFromSeed(seed))).toBe(false);
    }
  });

  it('precommits sign exactly chain-core’s precommitSigningBody (so commits verify)', async () => {
    const p = await proposal();
    const v = signVote(genesis.chainId, 'precommit', 1, 0, p.blockHash, address, seed);
    expect(
      verifyMessage(
        'vote',
        genesis.chainId,
        precommitSigningBody(1, 0, blockHash(p.block.header)),
        v.signature,
        publicKeyFromSeed(seed),
      ),
    ).toBe(true);
    // A prevote for the same block is not a precommit.
    const pv = signVote(genesis.chainId, 'prevote', 1, 0, p.blockHash, address, seed);
    expect(
      verifyMessage(
        'vote',
        genesis.chainId,
        precommitSigningBody(1, 0, p.blockHash),
        pv.signature,
        publicKeyFromSeed(seed),
      ),
    ).toBe(false);
  });

  it.each([
    ['not an object', 'x', ''],
    ['an array', [], ''],
    ['an unknown type', { type: 'commit' }, 'type'],
    ['an unknown field', { extra: 1 }, 'extra'],
    ['height 0', { height: 0 }, 'height'],
    ['a fractional round', { round: 1.5 }, 'round'],
    ['a negative round', { round: -1 }, 'round'],
    ['a huge round', { round: 2_000_000 }, 'round'],
    ['an uppercase hash', { blockHash: `0x${'AB'.repeat(32)}` }, 'blockHash'],
    ['a short signature', { signature: 'ab' }, 'signature'],
    ['a bad address', { validator: 'ait1xyz' }, 'validator'],
  ])('refuses a vote with %s', (_name, patch, field) => {
    const v = encodeConsensusMessage(signVote('aitbc-msg', 'precommit', 3, 0, null, address, seed));
    const json = typeof patch === 'object' && !Array.isArray(patch) ? { ...v, ...patch } : patch;
    expect(() => decodeConsensusMessage(json)).toThrow(
      expect.objectContaining({ code: 'CONSENSUS_MALFORMED_MESSAGE', details: { field } }),
    );
  });

  it.each([
    ['a polRound not below its round', { polRound: 2 }, 'polRound'],
    ['a polRound below -1', { polRound: -2 }, 'polRound'],
    ['a block that does not decode', { block: { header: {} } }, 'block'],
    ['a block of another height', { height: 5 }, 'block'],
    ['a vote field', { validator: address }, 'validator'],
  ])('refuses a proposal with %s', async (_name, patch, field) => {
    const json = { ...encodeConsensusMessage(await proposal()), ...patch };
    expect(() => decodeConsensusMessage(json)).toThrow(
      expect.objectContaining({ code: 'CONSENSUS_MALFORMED_MESSAGE', details: { field } }),
    );
  });
});
