/**
 * Multi-process test and benchmark harness: `initNetwork` into a temp directory on a random high port
 * base, then each node as its own `aitbc-node start --config` process (real level databases, real
 * sockets on 127.0.0.1), started in parallel, with per-node kill/restart.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChainParams, GenesisAllocation } from '@aitbc/chain-core';
import type { KeyPair } from '@aitbc/crypto';
import { createNodeClient, type NodeClient } from '@aitbc/rpc/client';
import { portBlockBase } from '../../test-support/freePort.ts';
import {
  type InitializedNode,
  initNetwork,
  type NodeProcess,
  readKeystoreFile,
  readPassphrase,
  spawnNode,
  waitForHealth,
} from '../src/index.js';

/** One node of a {@link TestNetwork}. */
export interface TestNode extends InitializedNode {
  readonly client: NodeClient;
  /** The current process (undefined before the first start or after a stop). */
  process: NodeProcess | undefined;
  /** Starts the process (again), with extra environment if given, and waits for `/health`. */
  start(env?: Record<string, string>): Promise<void>;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), and waits for the exit; resolves the exit code. */
  stop(): Promise<number | NodeJS.Signals>;
  /** The last lines the process printed (for failure messages). */
  readonly output: string[];
}

/** A network started by {@link startTestNetwork}. */
export interface TestNetwork {
  readonly dir: string;
  readonly chainId: string;
  readonly validators: readonly TestNode[];
  readonly followers: readonly TestNode[];
  readonly faucet: KeyPair & { readonly address: string };
  /** Kills every process and removes the directory. Safe to call twice. */
  close(): Promise<void>;
}

/** Options of {@link startTestNetwork}. */
export interface TestNetworkOptions {
  readonly validators: number;
  readonly followers?: number;
  /** Genesis parameters (default: 250 ms blocks, empty blocks every second). */
  readonly params?: Partial<ChainParams>;
  readonly allocations?: readonly GenesisAllocation[];
  /** BFT timeouts (default: short ones for tests). */
  readonly consensus?: { timeoutProposeMs?: number; timeoutVoteMs?: number; timeoutDeltaMs?: number };
  /** Start the followers too (default false: tests start them when they want). */
  readonly startFollowers?: boolean;
  /** Extra environment of every node (e.g. `AITBC_RPC_MAX_BATCH`). */
  readonly env?: Record<string, string>;
  readonly logLevel?: string;
  /** Extra Node.js flags of every node process (e.g. `--cpu-prof`). */
  readonly execArgv?: readonly string[];
  /**
   * Where each node runs (default: every node on 127.0.0.1 in this network namespace), e.g. each in a
   * Linux network namespace of its own (see `reference-node/chaos/netns.ts`).
   */
  readonly placement?: (index: number) => NodePlacement;
}

/** Where one node of a {@link TestNetwork} listens and how its process is launched. */
export interface NodePlacement {
  /** Listen address of the node's API and peer port (e.g. `0.0.0.0`). */
  readonly listenHost: string;
  /** Address this process reaches the node's API and peer port at (its `rpcUrl` and `p2pUrl`). */
  readonly reachHost: string;
  /** Address the other nodes dial this node's peer port at (written into their `p2p.peers`). */
  readonly peerHost: string;
  /** Command the node process is started under (see `SpawnNodeOptions.launcher`). */
  readonly launcher?: readonly string[];
}

/**
 * Rewrites the configs `initNetwork` wrote (every node on 127.0.0.1) for `placement`; returns each
 * node with the URLs this process reaches it at.
 */
function placeNodes(nodes: readonly InitializedNode[], placement: (index: number) => NodePlacement): InitializedNode[] {
  const port = (url: string) => new URL(url).port;
  const peerUrlOf = new Map(nodes.map((n, i) => [n.p2pUrl, `ws://${placement(i).peerHost}:${port(n.p2pUrl)}`]));
  return nodes.map((n, i) => {
    const where = placement(i);
    const config = JSON.parse(readFileSync(n.configPath, 'utf8'));
    config.rpc = { ...config.rpc, host: where.listenHost };
    config.p2p = {
      ...config.p2p,
      host: where.listenHost,
      peers: (config.p2p.peers as string[]).map((u) => peerUrlOf.get(u) ?? u),
    };
    writeFileSync(n.configPath, `${JSON.stringify(config, null, 2)}\n`);
    return {
      ...n,
      rpcUrl: `http://${where.reachHost}:${port(n.rpcUrl)}`,
      p2pUrl: `ws://${where.reachHost}:${port(n.p2pUrl)}`,
    };
  });
}

/** Initializes and starts a network; see the module comment. */
export async function startTestNetwork(options: TestNetworkOptions): Promise<TestNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'aitbc-net-'));
  const base = portBlockBase();
  const net = await initNetwork({
    dir,
    validators: options.validators,
    followers: options.followers ?? 0,
    rpcPort: base + 6,
    p2pPort: base + 5,
    kdf: 'fast',
    env: {},
    logLevel: options.logLevel ?? 'warn',
    params: { blockTimeMs: 250, emptyBlockIntervalMs: 1_000, ...options.params },
    consensus: { timeoutProposeMs: 1_500, timeoutVoteMs: 500, timeoutDeltaMs: 250, ...options.consensus },
    ...(options.allocations !== undefined ? { allocations: options.allocations } : {}),
  });
  const passphrase = readPassphrase(net.passphraseFile, {});
  const faucetKey = await readKeystoreFile(net.faucet.keystore, passphrase);
  const placed = options.placement === undefined ? net.nodes : placeNodes(net.nodes, options.placement);
  const nodes: TestNode[] = placed.map((n, index) => {
    const launcher = options.placement?.(index).launcher;
    const output: string[] = [];
    const node: TestNode = {
      ...n,
      client: createNodeClient({ baseUrl: n.rpcUrl }),
      process: undefined,
      output,
      async start(env) {
        node.process = spawnNode(['start', '--config', n.configPath], {
          name: n.name,
          env: { AITBC_KEY_PASSPHRASE: '', ...options.env, ...env },
          ...(options.execArgv !== undefined ? { execArgv: options.execArgv } : {}),
          ...(launcher !== undefined ? { launcher } : {}),
          onLine: (line) => {
            output.push(line);
            if (output.length > 200) output.shift();
          },
        });
        try {
          await waitForHealth(n.rpcUrl, node.process, 90_000);
        } catch (err) {
          throw new Error(`${n.name} did not start: ${(err as Error).message}\n${output.slice(-20).join('\n')}`);
        }
      },
      async kill() {
        const p = node.process;
        node.process = undefined;
        if (p === undefined) return;
        p.kill('SIGKILL');
        await p.exited;
      },
      async stop() {
        const p = node.process;
        node.process = undefined;
        return p === undefined ? 0 : p.stop(15_000);
      },
    };
    return node;
  });
  const validators = nodes.filter((n) => n.role === 'validator');
  const followers = nodes.filter((n) => n.role === 'follower');
  let closed = false;
  const network: TestNetwork = {
    dir,
    chainId: net.chainId,
    validators,
    followers,
    faucet: { ...faucetKey, address: net.faucet.address },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all([...validators, ...(options.startFollowers === true ? followers : [])].map((n) => n.start()));
  } catch (err) {
    await network.close();
    throw err;
  }
  return network;
}

/** The head height of a node (`-1` when it does not answer). */
export async function headHeight(node: TestNode): Promise<number> {
  try {
    return (await node.client.head()).height;
  } catch {
    return -1;
  }
}
