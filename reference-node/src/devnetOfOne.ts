import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blockHash,
  type Commit,
  createChain,
  createMempool,
  DEFAULT_PARAMS,
  type Genesis,
  genesisFromJson,
  genesisToJson,
  precommitSigningBody,
  SignatureCache,
} from '@aitbc/chain-core';
import { createPoaConsensus } from '@aitbc/consensus-poa';
import {
  addressFromPublicKey,
  bytesToHex,
  generateKeyPair,
  hexToBytes,
  publicKeyFromSeed,
  signMessage,
} from '@aitbc/crypto';
import { createNodeApiServer } from '@aitbc/rpc';
import { LevelKVStore } from '@aitbc/storage-level';
import { createChainBackend } from './chainBackend.js';

/** Options of {@link startDevnetOfOne}. */
export interface DevnetOfOneOptions {
  /** Data directory (keys, genesis, chain database). */
  readonly dataDir: string;
  /** Node API port (default 8006; 0 = any free port). */
  readonly rpcPort?: number;
  /** Block time when there are transactions (ms, default 1000). */
  readonly blockTimeMs?: number;
  /** Chain id for a new devnet (default `aitbc-devnet`). */
  readonly chainId?: string;
  /** Browser origins the node API allows (CORS), e.g. a web page served on another port (default: none). */
  readonly corsOrigins?: readonly string[];
}

/** The running node. */
export interface DevnetOfOne {
  readonly rpcUrl: string;
  readonly chainId: string;
  /** The funded demo account (its seed is in `<dataDir>/keys.json`, mode 0600). */
  readonly faucet: { readonly address: string; readonly seed: Uint8Array };
  /** The local coordinator's chain account (funded at genesis for settlement fees). */
  readonly coordinator: { readonly address: string; readonly seed: Uint8Array };
  stop(): Promise<void>;
}

interface KeysFile {
  validatorSeed: string;
  faucetSeed: string;
  coordinatorSeed?: string;
}

/**
 * A single-validator devnet node ("devnet of one": each block is final when its only validator
 * precommits it): keys and genesis created on first start in `dataDir` (keys file 0600), the chain on
 * LevelDB, a mempool, a block every `blockTimeMs` when there are transactions (else every
 * `emptyBlockIntervalMs`), and the node API on 127.0.0.1.
 */
export async function startDevnetOfOne(options: DevnetOfOneOptions): Promise<DevnetOfOne> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const keysPath = join(options.dataDir, 'keys.json');
  const genesisPath = join(options.dataDir, 'genesis.json');
  if (!existsSync(keysPath)) {
    const keys: KeysFile = {
      validatorSeed: bytesToHex(generateKeyPair().seed),
      faucetSeed: bytesToHex(generateKeyPair().seed),
    };
    writeFileSync(keysPath, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }
  chmodSync(keysPath, 0o600);
  const keys = JSON.parse(readFileSync(keysPath, 'utf8')) as KeysFile;
  const validatorSeed = hexToBytes(keys.validatorSeed, 32);
  const faucetSeed = hexToBytes(keys.faucetSeed, 32);
  const faucet = addressFromPublicKey(publicKeyFromSeed(faucetSeed));
  if (keys.coordinatorSeed === undefined) {
    // Data directories from before the coordinator key existed: add one (unfunded on that chain).
    keys.coordinatorSeed = bytesToHex(generateKeyPair().seed);
    writeFileSync(keysPath, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }
  const coordinatorSeed = hexToBytes(keys.coordinatorSeed, 32);
  const coordinatorAddress = addressFromPublicKey(publicKeyFromSeed(coordinatorSeed));
  if (!existsSync(genesisPath)) {
    const genesis: Genesis = {
      chainId: options.chainId ?? 'aitbc-devnet',
      genesisTime: Date.now(),
      validators: [{ publicKey: publicKeyFromSeed(validatorSeed), power: 1, name: 'devnet-validator' }],
      allocations: [
        { address: faucet, amount: 1_000_000n * 10n ** 18n },
        { address: coordinatorAddress, amount: 1_000n * 10n ** 18n },
      ],
      params: { ...DEFAULT_PARAMS, blockTimeMs: options.blockTimeMs ?? DEFAULT_PARAMS.blockTimeMs },
    };
    writeFileSync(genesisPath, `${JSON.stringify(genesisToJson(genesis), null, 2)}\n`);
  }
  const genesis = genesisFromJson(JSON.parse(readFileSync(genesisPath, 'utf8')));
  const store = await LevelKVStore.open({ path: join(options.dataDir, 'chain') });
  const signatureCache = new SignatureCache();
  const chain = createChain({ store, genesis, consensus: createPoaConsensus(), signatureCache });
  await chain.open();
  const mempool = createMempool({
    chainId: genesis.chainId,
    minFee: genesis.params.minFee,
    account: (a) => chain.account(a),
    signatureCache,
  });
  const validator = addressFromPublicKey(publicKeyFromSeed(validatorSeed));

  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopping = false;
  let lastBlockAt = Date.now();
  const backend = createChainBackend(chain, mempool);
  const produce = async (): Promise<void> => {
    const due = mempool.size > 0 || Date.now() - lastBlockAt >= genesis.params.emptyBlockIntervalMs;
    if (!due) return;
    const height = chain.head.height + 1;
    const txs = await mempool.select(genesis.params.maxBlockTxs, genesis.params.maxBlockBytes);
    const lastCommit = height === 1 ? null : ((await chain.getCommit(height - 1)) ?? null);
    const block = await chain.buildBlock({
      round: 0,
      timestamp: Math.max(Date.now(), chain.head.timestamp + 1),
      proposerSeed: validatorSeed,
      lastCommit,
      txs,
    });
    const hash = blockHash(block.header);
    const commit: Commit = {
      height,
      round: 0,
      blockHash: hash,
      signatures: [
        {
          validator,
          signature: signMessage('vote', genesis.chainId, precommitSigningBody(height, 0, hash), validatorSeed),
        },
      ],
    };
    await chain.importBlock(block, commit);
    await mempool.revalidate();
    lastBlockAt = Date.now();
    backend.emitBlock(block);
  };
  const loop = () => {
    if (stopping) return;
    timer = setTimeout(() => {
      produce()
        .catch((err: unknown) =>
          process.stderr.write(`block production failed: ${err instanceof Error ? err.message : String(err)}\n`),
        )
        .finally(loop);
    }, genesis.params.blockTimeMs);
  };
  const server = createNodeApiServer({
    backend,
    port: options.rpcPort ?? 8006,
    logger: false,
    ...(options.corsOrigins !== undefined && options.corsOrigins.length > 0
      ? { cors: { origins: options.corsOrigins } }
      : {}),
  });
  const rpcUrl = await server.start();
  loop();
  return {
    rpcUrl,
    chainId: genesis.chainId,
    faucet: { address: faucet, seed: faucetSeed },
    coordinator: { address: coordinatorAddress, seed: coordinatorSeed },
    async stop() {
      stopping = true;
      if (timer !== undefined) clearTimeout(timer);
      await server.stop();
      await chain.close();
    },
  };
}
