import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { genesisFromJson } from '@aitbc/chain-core';
import { AitbcError, addressFromPublicKey, bytesToHex, generateKeyPair } from '@aitbc/crypto';
import { type DevnetServices, startDevnetServices } from './devnetServices.js';
import { type DevnetWeb, startDevnetWeb } from './devnetWeb.js';
import { initNetwork } from './initNetwork.js';
import { readKeystoreFile, readPassphrase } from './nodeKeys.js';
import { type NodeProcess, spawnNode, waitForHealth } from './nodeProcess.js';

/** Options of {@link startDevnet}. */
export interface DevnetOptions {
  /** Data directory (default `./.aitbc/devnet`); an existing network there is reused. */
  readonly dir?: string;
  /** Validator processes (default 4). */
  readonly validators?: number;
  /** Block time written into a new genesis (ms, default 1000). */
  readonly blockTimeMs?: number;
  /** Node API port of node 0 (default 8006); node i listens on `rpcPort + 10 i`. */
  readonly rpcPort?: number;
  /** Peer port of node 0 (default 8005); node i listens on `p2pPort + 10 i`. */
  readonly p2pPort?: number;
  /** Run the pool hub, coordinator (with the settler) and demo miner too (default true). */
  readonly services?: boolean;
  readonly poolPort?: number;
  readonly coordinatorPort?: number;
  readonly walletPort?: number;
  /**
   * Serve the built web apps (`./apps/web/dist`, or `$AITBC_WEB_ROOT`) with the same-origin proxy on
   * this port (0 = any); default: not served (`aitbc-node devnet` asks for 8080). Needs the services.
   * Not built, or the port taken: the devnet runs without them ({@link Devnet.webError} says why).
   */
  readonly webPort?: number;
  /** Environment for the passphrase and the children (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Receives prefixed child output lines (default: this process's stdout/stderr). */
  readonly onLine?: (name: string, line: string, stream: 'stdout' | 'stderr') => void;
  /** How long to wait for every node's `/health` (default 60 000 ms). */
  readonly readyTimeoutMs?: number;
}

/** A running devnet; see {@link startDevnet}. */
export interface Devnet {
  readonly dir: string;
  readonly chainId: string;
  readonly nodes: readonly {
    readonly name: string;
    readonly rpcUrl: string;
    readonly p2pUrl: string;
    readonly process: NodeProcess;
  }[];
  readonly services: DevnetServices | undefined;
  /** The web front (explorer, marketplace) when it was asked for and the apps are built. */
  readonly web: DevnetWeb | undefined;
  /** Why the web front was asked for but is not served (not built, port taken). */
  readonly webError: string | undefined;
  readonly faucet: { readonly address: string; readonly keystore: string };
  readonly coordinator: { readonly address: string; readonly keystore: string };
  readonly passphraseFile: string | undefined;
  /** Resolves when any node process exits unexpectedly (with its name and code). */
  readonly failed: Promise<{ name: string; code: number | NodeJS.Signals }>;
  /** Stops the services, then every node (SIGTERM, SIGKILL after a grace period), in reverse order. */
  stop(): Promise<void>;
}

interface NodeConfigFile {
  role: string;
  rpc: { port: number };
  p2p: { port: number };
}

/**
 * `aitbc-node devnet`: initializes (first run) or reuses a network under `dir`, runs one `aitbc-node
 * start` child process per validator in parallel with prefixed output, waits until every node answers
 * `/health`, then starts the marketplace services in this process, settling through node 0's API.
 * @throws AitbcError `NODE_DEVNET_MISMATCH` (the existing network has another validator count),
 * `NODE_NOT_READY`, `NODE_CHILD_EXITED`, and the codes of {@link initNetwork}.
 */
export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const dir = resolve(options.dir ?? join(process.cwd(), '.aitbc', 'devnet'));
  const env = options.env ?? process.env;
  const wanted = options.validators ?? 4;
  const genesisPath = join(dir, 'genesis.json');
  if (!existsSync(genesisPath))
    await initNetwork({
      dir,
      validators: wanted,
      rpcPort: options.rpcPort ?? 8006,
      p2pPort: options.p2pPort ?? 8005,
      kdf: 'fast',
      env,
      ...(options.blockTimeMs !== undefined ? { params: { blockTimeMs: options.blockTimeMs } } : {}),
    });
  const genesis = genesisFromJson(JSON.parse(readFileSync(genesisPath, 'utf8')));
  if (options.validators !== undefined && genesis.validators.length !== wanted)
    throw new AitbcError(
      'NODE_DEVNET_MISMATCH',
      `${dir} holds a network of ${genesis.validators.length} validators, not ${wanted}; remove the directory to start afresh`,
      { details: { dir, validators: genesis.validators.length } },
    );
  const passphraseFile = existsSync(join(dir, 'passphrase')) ? join(dir, 'passphrase') : undefined;
  const nodes = genesis.validators.map((_, i) => {
    const name = `node-${i}`;
    const configPath = join(dir, name, 'config.json');
    const cfg = JSON.parse(readFileSync(configPath, 'utf8')) as NodeConfigFile;
    const rpcPort = options.rpcPort === undefined ? cfg.rpc.port : options.rpcPort + 10 * i;
    const p2pPort = options.p2pPort === undefined ? cfg.p2p.port : options.p2pPort + 10 * i;
    const childEnv: Record<string, string | undefined> = {
      ...env,
      AITBC_RPC_PORT: String(rpcPort),
      AITBC_P2P_PORT: String(p2pPort),
      ...(options.p2pPort === undefined
        ? {}
        : {
            AITBC_P2P_PEERS: Array.from(
              { length: i },
              (_, j) => `ws://127.0.0.1:${(options.p2pPort as number) + 10 * j}`,
            ).join(','),
          }),
    };
    const process = spawnNode(['start', '--config', configPath], {
      name,
      env: childEnv,
      ...(options.onLine !== undefined
        ? { onLine: (line: string, stream: 'stdout' | 'stderr') => options.onLine?.(name, line, stream) }
        : {}),
    });
    return { name, rpcUrl: `http://127.0.0.1:${rpcPort}`, p2pUrl: `ws://127.0.0.1:${p2pPort}`, process };
  });
  let stopping = false;
  let services: DevnetServices | undefined;
  let web: DevnetWeb | undefined;
  let webError: string | undefined;
  const infoFile = join(dir, 'devnet.json');
  const stop = async () => {
    stopping = true;
    rmSync(infoFile, { force: true });
    if (web !== undefined) await web.stop();
    web = undefined;
    if (services !== undefined) await services.stop();
    services = undefined;
    await Promise.all([...nodes].reverse().map((n) => n.process.stop()));
  };
  const failed = new Promise<{ name: string; code: number | NodeJS.Signals }>((resolvePromise) => {
    for (const n of nodes)
      void n.process.exited.then((code) => {
        if (!stopping) resolvePromise({ name: n.name, code });
      });
  });
  try {
    await Promise.all(nodes.map((n) => waitForHealth(n.rpcUrl, n.process, options.readyTimeoutMs ?? 60_000)));
    if (options.services !== false) {
      const passphrase = readPassphrase(passphraseFile, env);
      const coordinator = await readKeystoreFile(join(dir, 'coordinator.keystore.json'), passphrase);
      const faucet = await readKeystoreFile(join(dir, 'faucet.keystore.json'), passphrase);
      services = await startDevnetServices({
        dataDir: join(dir, 'services'),
        nodeRpcUrl: (nodes[0] as (typeof nodes)[number]).rpcUrl,
        chainId: genesis.chainId,
        coordinatorSeed: coordinator.seed,
        faucetAddress: addressFromPublicKey(faucet.publicKey),
        ...(options.poolPort !== undefined ? { poolPort: options.poolPort } : {}),
        ...(options.coordinatorPort !== undefined ? { coordinatorPort: options.coordinatorPort } : {}),
        ...(options.walletPort !== undefined ? { walletPort: options.walletPort } : {}),
      });
      const minerKeyFile = ensureMinerKeyFile(join(dir, 'miner.key'));
      writeDevnetInfo(infoFile, {
        chainId: genesis.chainId,
        nodes: nodes.map((n) => ({ name: n.name, rpcUrl: n.rpcUrl })),
        coordinatorUrl: services.coordinatorUrl,
        poolUrl: services.poolUrl,
        walletUrl: services.walletUrl,
        walletTokenFile: services.walletTokenFile,
        keys: services.keys,
        minerId: services.minerId,
        minerKeyFile,
        faucet: { address: addressFromPublicKey(faucet.publicKey), keystore: join(dir, 'faucet.keystore.json') },
        coordinator: {
          address: addressFromPublicKey(coordinator.publicKey),
          publicKey: bytesToHex(coordinator.publicKey),
        },
        passphraseFile: passphraseFile ?? null,
      });
      if (options.webPort !== undefined) {
        try {
          web = await startDevnetWeb({
            port: options.webPort,
            env,
            nodeRpcUrl: (nodes[0] as (typeof nodes)[number]).rpcUrl,
            coordinatorUrl: services.coordinatorUrl,
            walletUrl: services.walletUrl,
            chainId: genesis.chainId,
            coordinatorPublicKey: coordinator.publicKey,
            coordinatorAddress: addressFromPublicKey(coordinator.publicKey),
            validators: genesis.validators,
          });
          if (web === undefined) webError = 'the web apps are not built (npm run build:web)';
        } catch (err) {
          webError = `the web server could not start: ${err instanceof Error ? err.message : String(err)}`;
        }
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const keystoreOf = (name: string) => join(dir, name);
  return {
    dir,
    chainId: genesis.chainId,
    nodes,
    get services() {
      return services;
    },
    get web() {
      return web;
    },
    get webError() {
      return webError;
    },
    faucet: {
      address: addressOfKeystore(keystoreOf('faucet.keystore.json')),
      keystore: keystoreOf('faucet.keystore.json'),
    },
    coordinator: {
      address: addressOfKeystore(keystoreOf('coordinator.keystore.json')),
      keystore: keystoreOf('coordinator.keystore.json'),
    },
    passphraseFile,
    failed,
    stop,
  };
}

/**
 * Writes `devnet.json` (mode 0600: it holds this run's API keys) for tools such as `npm run demo`:
 * URLs, keys, the demo accounts and the coordinator's public key. Removed again on `stop()`.
 */
function writeDevnetInfo(file: string, info: Record<string, unknown>): void {
  rmSync(file, { force: true }); // a fresh file gets the mode; an old one would keep its own
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/**
 * The devnet miner's key: a 32-byte seed as hex in `file` (0600; the format of `aitbc miner start
 * --key-file`), made on the first run and reused after — the pool hub binds a miner id to one key.
 */
function ensureMinerKeyFile(file: string): string {
  if (!existsSync(file)) writeFileSync(file, `${bytesToHex(generateKeyPair().seed)}\n`, { mode: 0o600 });
  return file;
}

/** The address in a keystore's (unencrypted) header. */
function addressOfKeystore(file: string): string {
  const { address } = JSON.parse(readFileSync(file, 'utf8')) as { address: string };
  return address;
}
