/**
 * Embeds `@aitbc/chain-core` on a store of our own (`FileKVStore`): a one-validator chain that
 * builds, commits and imports a block with a transfer, then closes, reopens the same file and finds
 * its head and balances again. Run: `npm start -w examples/custom-store` (data in a temp dir).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  blockHash,
  type Commit,
  createChain,
  DEFAULT_PARAMS,
  type Genesis,
  precommitSigningBody,
  signTx,
} from '@aitbc/chain-core';
import { createPoaConsensus } from '@aitbc/consensus-poa';
import { addressFromPublicKey, generateKeyPair, signMessage } from '@aitbc/crypto';
import { FileKVStore } from './fileKVStore.js';

/** What {@link embedChain} did. */
export interface EmbedChainResult {
  /** Head height after reopening the store. */
  readonly height: number;
  /** Bob's balance after reopening (the amount sent). */
  readonly bobBalance: bigint;
  /** Alice's nonce after reopening (1: one transaction sent). */
  readonly aliceNonce: number;
}

/** Runs the example with its log file at `path`; `log` receives one line per step. */
export async function embedChain(path: string, log: (line: string) => void = console.log): Promise<EmbedChainResult> {
  const validator = generateKeyPair();
  const alice = generateKeyPair();
  const bob = addressFromPublicKey(generateKeyPair().publicKey);
  const aliceAddress = addressFromPublicKey(alice.publicKey);
  const genesis: Genesis = {
    chainId: 'example-chain',
    genesisTime: Date.now(),
    validators: [{ publicKey: validator.publicKey, power: 1, name: 'v0' }],
    allocations: [{ address: aliceAddress, amount: 1_000n * 10n ** 18n }],
    params: DEFAULT_PARAMS,
  };

  // 1. The chain on our store. chain-core only ever talks to the KVStore interface.
  const store = await FileKVStore.open(path);
  const chain = createChain({ store, genesis, consensus: createPoaConsensus() });
  await chain.open();
  log(`opened chain ${genesis.chainId} at height ${chain.head.height} on ${path}`);

  // 2. A signed transfer, built into block 1 by the (only) validator.
  const tx = signTx(
    {
      type: 'transfer',
      chainId: genesis.chainId,
      from: aliceAddress,
      nonce: 0,
      fee: DEFAULT_PARAMS.minFee,
      to: bob,
      amount: 42n,
    },
    alice.seed,
  );
  const block = await chain.buildBlock({
    round: 0,
    timestamp: Math.max(Date.now(), chain.head.timestamp + 1),
    proposerSeed: validator.seed,
    lastCommit: null,
    txs: [tx],
  });

  // 3. The commit: the validator's precommit (one validator holds all the power). A real network
  //    collects these from > 2/3 of the power with @aitbc/consensus-poa's BFT driver.
  const hash = blockHash(block.header);
  const commit: Commit = {
    height: 1,
    round: 0,
    blockHash: hash,
    signatures: [
      {
        validator: addressFromPublicKey(validator.publicKey),
        signature: signMessage('vote', genesis.chainId, precommitSigningBody(1, 0, hash), validator.seed),
      },
    ],
  };
  await chain.importBlock(block, commit); // one atomic, fsync'd batch on our store
  log(`imported block 1 with ${block.txs.length} transaction(s)`);
  await chain.close();
  await store.close();

  // 4. Reopen the same file: the head and the state come back from our log.
  const reopened = await FileKVStore.open(path);
  const again = createChain({ store: reopened, genesis, consensus: createPoaConsensus() });
  await again.open();
  try {
    const result = {
      height: again.head.height,
      bobBalance: (await again.account(bob)).balance,
      aliceNonce: (await again.account(aliceAddress)).nonce,
    };
    log(`reopened: height ${result.height}, bob's balance ${result.bobBalance}, alice's nonce ${result.aliceNonce}`);
    return result;
  } finally {
    await again.close();
    await reopened.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await embedChain(join(mkdtempSync(join(tmpdir(), 'aitbc-custom-store-')), 'chain.log'));
}
