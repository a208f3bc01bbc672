import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type ChainParams,
  DEFAULT_PARAMS,
  type Genesis,
  type GenesisAllocation,
  genesisToJson,
} from '@aitbc/chain-core';
import { AitbcError, addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { type KdfParams, MIN_KDF } from '@aitbc/wallet';
import { ensurePassphrase, writeKeystoreFile } from './nodeKeys.js';

/** Options of {@link initNetwork}. */
export interface InitNetworkOptions {
  /** Directory to write into (created; must not already hold a `genesis.json`). */
  readonly dir: string;
  /** Number of validators (1..100, default 4). */
  readonly validators?: number;
  /** Number of follower configs to write as well (default 0). */
  readonly followers?: number;
  readonly chainId?: string;
  /** Genesis parameter overrides (block time, block size, ...). */
  readonly params?: Partial<ChainParams>;
  /** Extra genesis balances (e.g. benchmark accounts). */
  readonly allocations?: readonly GenesisAllocation[];
  /** Node API port of node 0 (default 8006); node i gets `rpcPort + portStride * i`. */
  readonly rpcPort?: number;
  /** Peer port of node 0 (default 8005). */
  readonly p2pPort?: number;
  /** Port distance between nodes (default 10). */
  readonly portStride?: number;
  /**
   * Keystore KDF parameters. Default: the wallet's defaults (Argon2id 64 MiB, t=3). `'fast'` uses
   * the wallet's `MIN_KDF` (8 MiB, t=1): for local devnets and tests only, where N keys are unlocked at
   * every start on one machine.
   */
  readonly kdf?: KdfParams | 'fast';
  /** Environment (default `process.env`): `AITBC_KEY_PASSPHRASE` there is used instead of a passphrase file. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Config `log.level` written into each node config (default `info`). */
  readonly logLevel?: string;
  /** BFT timeouts written into each node config (default: the config defaults). */
  readonly consensus?: {
    readonly timeoutProposeMs?: number;
    readonly timeoutVoteMs?: number;
    readonly timeoutDeltaMs?: number;
  };
}

/** One node written by {@link initNetwork}. */
export interface InitializedNode {
  readonly name: string;
  readonly role: 'validator' | 'follower';
  readonly dir: string;
  readonly configPath: string;
  /** Address of the node key (the validator's address for validators). */
  readonly address: string;
  readonly rpcUrl: string;
  readonly p2pUrl: string;
}

/** What {@link initNetwork} wrote. */
export interface InitializedNetwork {
  readonly dir: string;
  readonly chainId: string;
  readonly genesisPath: string;
  /** Passphrase file (0600) — `undefined` when the passphrase came from `AITBC_KEY_PASSPHRASE`. */
  readonly passphraseFile: string | undefined;
  readonly nodes: readonly InitializedNode[];
  /** The demo account funded at genesis (keystore `faucet.keystore.json`). */
  readonly faucet: { readonly address: string; readonly keystore: string };
  /** The local coordinator's chain account, funded for settlement fees (keystore `coordinator.keystore.json`). */
  readonly coordinator: { readonly address: string; readonly keystore: string };
}

const AIT = 10n ** 18n;

/**
 * `aitbc-node init`: writes a network's keys and genesis. Layout under `dir`:
 * `genesis.json`, `passphrase` (0600, unless `AITBC_KEY_PASSPHRASE` is set), `faucet.keystore.json`,
 * `coordinator.keystore.json`, and for each node `node-<i>/` (validators) or `follower-<i>/` with
 * `keystore.json` (0600) and `config.json` (role, ports, peers: every node dials the validators
 * before it, followers dial all validators).
 * @throws AitbcError `NODE_INIT_EXISTS` (a genesis is already there), `NODE_INIT_BAD_OPTION`.
 */
export async function initNetwork(options: InitNetworkOptions): Promise<InitializedNetwork> {
  const dir = resolve(options.dir);
  const n = options.validators ?? 4;
  const followers = options.followers ?? 0;
  const stride = options.portStride ?? 10;
  const rpc0 = options.rpcPort ?? 8006;
  const p2p0 = options.p2pPort ?? 8005;
  const bad = (option: string, expected: string, got: unknown) =>
    new AitbcError('NODE_INIT_BAD_OPTION', `${option}: expected ${expected}, got ${JSON.stringify(got)}`, {
      details: { option, expected },
    });
  if (!Number.isSafeInteger(n) || n < 1 || n > 100) throw bad('validators', 'an integer in 1..100', n);
  if (!Number.isSafeInteger(followers) || followers < 0 || followers > 100)
    throw bad('followers', 'an integer in 0..100', followers);
  if (!Number.isSafeInteger(stride) || stride < 2) throw bad('portStride', 'an integer ≥ 2', stride);
  const maxPort = Math.max(rpc0, p2p0) + stride * (n + followers - 1);
  if (!Number.isSafeInteger(rpc0) || !Number.isSafeInteger(p2p0) || rpc0 < 1 || p2p0 < 1 || maxPort > 65_535)
    throw bad('rpcPort/p2pPort', 'ports in 1..65535 for every node', { rpc0, p2p0 });
  const genesisPath = join(dir, 'genesis.json');
  if (existsSync(genesisPath))
    throw new AitbcError('NODE_INIT_EXISTS', `${genesisPath} exists already; use another directory or remove it`, {
      details: { path: genesisPath },
    });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const env = options.env ?? process.env;
  const usesEnv = (env.AITBC_KEY_PASSPHRASE ?? '') !== '';
  const passphraseFile = usesEnv ? undefined : join(dir, 'passphrase');
  const passphrase = ensurePassphrase(join(dir, 'passphrase'), env);
  const kdf = options.kdf === 'fast' ? MIN_KDF : options.kdf;

  const faucet = generateKeyPair();
  const coordinator = generateKeyPair();
  const faucetAddress = addressFromPublicKey(faucet.publicKey);
  const coordinatorAddress = addressFromPublicKey(coordinator.publicKey);
  const keys = Array.from({ length: n + followers }, () => generateKeyPair());
  const writes: Promise<void>[] = [
    writeKeystoreFile(join(dir, 'faucet.keystore.json'), faucet.seed, passphrase, kdf),
    writeKeystoreFile(join(dir, 'coordinator.keystore.json'), coordinator.seed, passphrase, kdf),
  ];
  const nodes: InitializedNode[] = [];
  const p2pUrls = keys.slice(0, n).map((_, i) => `ws://127.0.0.1:${p2p0 + stride * i}`);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as (typeof keys)[number];
    const role = i < n ? 'validator' : 'follower';
    const name = role === 'validator' ? `node-${i}` : `follower-${i - n}`;
    const nodeDir = join(dir, name);
    mkdirSync(nodeDir, { recursive: true, mode: 0o700 });
    const config: Record<string, unknown> = {
      role,
      name,
      dataDir: '.',
      genesis: '../genesis.json',
      keystore: 'keystore.json',
      ...(passphraseFile === undefined ? {} : { passphraseFile: '../passphrase' }),
      rpc: { port: rpc0 + stride * i },
      p2p: { port: p2p0 + stride * i, peers: role === 'validator' ? p2pUrls.slice(0, i) : p2pUrls },
      log: { level: options.logLevel ?? 'info' },
      ...(options.consensus === undefined ? {} : { consensus: options.consensus }),
    };
    const configPath = join(nodeDir, 'config.json');
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
    writes.push(writeKeystoreFile(join(nodeDir, 'keystore.json'), key.seed, passphrase, kdf));
    nodes.push({
      name,
      role,
      dir: nodeDir,
      configPath,
      address: addressFromPublicKey(key.publicKey),
      rpcUrl: `http://127.0.0.1:${rpc0 + stride * i}`,
      p2pUrl: `ws://127.0.0.1:${p2p0 + stride * i}`,
    });
  }
  await Promise.all(writes);
  const chainId = options.chainId ?? 'aitbc-devnet';
  const genesis: Genesis = {
    chainId,
    genesisTime: Date.now(),
    validators: keys.slice(0, n).map((k, i) => ({ publicKey: k.publicKey, power: 1, name: `node-${i}` })),
    allocations: [
      { address: faucetAddress, amount: 1_000_000n * AIT },
      { address: coordinatorAddress, amount: 1_000n * AIT },
      ...(options.allocations ?? []),
    ],
    params: { ...DEFAULT_PARAMS, ...options.params },
  };
  writeFileSync(genesisPath, `${JSON.stringify(genesisToJson(genesis), null, 2)}\n`);
  return {
    dir,
    chainId,
    genesisPath,
    passphraseFile,
    nodes,
    faucet: { address: faucetAddress, keystore: join(dir, 'faucet.keystore.json') },
    coordinator: { address: coordinatorAddress, keystore: join(dir, 'coordinator.keystore.json') },
  };
}
