/**
 * One marketplace network of real processes on 127.0.0.1 for `marketplace.e2e.ts`: a chain of one
 * validator (`aitbc-node start --config`, through {@link startTestNetwork}), the pool hub and the
 * coordinator with its settler in one `aitbc-node start --config services.json` process (role
 * `coordinator`, its pool hub served too; API keys made with `aitbc-node api-key add`), and two
 * miners, each the real `aitbc miner start` command (wasm runner) printing its events as NDJSON.
 * Every process can be SIGKILLed and started again on the same ports, keys files and level databases.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { addressFromPublicKey, bytesToHex, generateKeyPair, publicKeyFromSeed } from '@aitbc/crypto';
import { createNodeClient, type NodeClient } from '@aitbc/rpc/client';
import { freePort } from '../../test-support/freePort.ts';
import { until } from '../../test-support/until.ts';
import { NODE_MAIN, readKeystoreFile, readPassphrase, runCli } from '../src/index.js';
import { startTestNetwork, type TestNetwork } from './networkHarness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI_MAIN = join(ROOT, 'packages', 'cli', 'src', 'bin.ts');

/** A child process of the rig. */
export interface RigProcess {
  readonly pid: number;
  /** Resolves with the exit code (or signal) when the child ends. */
  readonly exited: Promise<number | NodeJS.Signals>;
  readonly running: boolean;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** Sends a signal (SIGSTOP / SIGCONT freeze and thaw the process, worker threads included). */
  signal(signal: NodeJS.Signals): void;
}

/** One event line of `aitbc miner start --json`. */
export interface MinerEvent {
  readonly event: 'started' | 'completed' | 'failed';
  readonly job_id: string;
  readonly [key: string]: unknown;
}

/** A miner of the rig: its identity and its `aitbc miner start` process. */
export interface RigMiner {
  readonly id: string;
  readonly apiKey: string;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: string;
  /** Every event it printed, over all its runs. */
  readonly events: MinerEvent[];
  /** The current process (undefined before start and after kill). */
  readonly process: RigProcess | undefined;
  /** Starts the miner and waits until the pool hub has its heartbeat from this run. */
  start(): Promise<void>;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
}

/** The network started by {@link startMarketplaceRig}. */
export interface MarketplaceRig {
  readonly network: TestNetwork;
  readonly node: NodeClient;
  readonly nodeUrl: string;
  readonly chainId: string;
  /** The client: the genesis-funded demo account, bound to {@link MarketplaceRig.clientKey}. */
  readonly faucet: { readonly address: string; readonly seed: Uint8Array };
  /** The coordinator's chain account (settles escrows, attests receipts). */
  readonly coordinator: { readonly address: string; readonly publicKey: Uint8Array };
  readonly coordinatorUrl: string;
  readonly poolUrl: string;
  readonly clientKey: string;
  readonly poolAdminKey: string;
  readonly miners: readonly [RigMiner, RigMiner];
  /** The services process (pool hub + coordinator + settler). */
  readonly services: {
    readonly process: RigProcess | undefined;
    start(): Promise<void>;
    kill(): Promise<void>;
  };
  /** The last output lines of every process (for failure messages). */
  readonly output: string[];
  /** Kills every process and removes the data. Safe to call twice, and after a failed start. */
  close(): Promise<void>;
}

/** Options of {@link startMarketplaceRig}. */
export interface MarketplaceRigOptions {
  /** The coordinator's lease (ms): a miner silent this long loses its job. */
  readonly leaseMs: number;
  /** Price per unit of the two miners (base units). */
  readonly prices: readonly [bigint, bigint];
}

/** `node --import tsx --conditions=@aitbc/source <main> <args>` with line-wise output. */
function spawnTs(
  main: string,
  args: readonly string[],
  env: Record<string, string>,
  onLine: (line: string, stream: 'stdout' | 'stderr') => void,
): RigProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@aitbc/source', main, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${main}`);
  for (const stream of ['stdout', 'stderr'] as const)
    createInterface({ input: child[stream] }).on('line', (line) => onLine(line, stream));
  let running = true;
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve(code ?? signal ?? 1);
    });
  });
  return {
    pid: child.pid,
    exited,
    get running() {
      return running;
    },
    async kill() {
      if (running) child.kill('SIGKILL');
      await exited;
    },
    signal(signal) {
      if (running) child.kill(signal);
    },
  };
}

/** Starts the chain, the services and both miners; see the module comment. */
export async function startMarketplaceRig(options: MarketplaceRigOptions): Promise<MarketplaceRig> {
  const network = await startTestNetwork({ validators: 1 });
  const output: string[] = [];
  const record = (name: string) => (line: string) => {
    output.push(`${name}| ${line}`);
    if (output.length > 300) output.shift();
  };
  const procs = new Set<RigProcess>();
  let closed = false;
  const closeAll = async () => {
    if (closed) return;
    closed = true;
    await Promise.all([...procs].map((p) => p.kill()));
    await network.close();
  };
  try {
    const validator = network.validators[0]!;
    const nodeUrl = validator.rpcUrl;
    const passphraseFile = join(network.dir, 'passphrase');
    const keystore = join(network.dir, 'coordinator.keystore.json');
    const coordinatorKey = await readKeystoreFile(keystore, readPassphrase(passphraseFile, {}));
    const coordinatorKeysFile = join(network.dir, 'coordinator-keys.json');
    const poolKeysFile = join(network.dir, 'pool-keys.json');
    const clientKey = await addKey(coordinatorKeysFile, ['--role', 'client', '--subject', network.faucet.address]);
    const poolAdminKey = await addKey(poolKeysFile, ['--role', 'admin']);
    const [coordinatorPort, poolPort] = [await freePort(), await freePort()];
    const coordinatorUrl = `http://127.0.0.1:${coordinatorPort}`;
    const poolUrl = `http://127.0.0.1:${poolPort}`;
    const minerIds = ['miner-a', 'miner-b'] as const;
    const minerKeys: Record<string, string> = {};
    for (const id of minerIds) minerKeys[id] = await addKey(coordinatorKeysFile, ['--role', 'miner', '--miner-id', id]);
    const servicesConfig = join(network.dir, 'services.json');
    writeFileSync(
      servicesConfig,
      JSON.stringify({
        role: 'coordinator',
        name: 'services',
        dataDir: join(network.dir, 'services'),
        keystore,
        passphraseFile,
        coordinator: {
          port: coordinatorPort,
          apiKeysFile: coordinatorKeysFile,
          nodeUrl,
          chainId: network.chainId,
          leaseMs: options.leaseMs,
          sweepIntervalMs: 250,
          settleIntervalMs: 250,
        },
        pool: { port: poolPort, apiKeysFile: poolKeysFile },
        log: { level: 'warn' },
      }),
    );

    let servicesProcess: RigProcess | undefined;
    const services = {
      get process() {
        return servicesProcess;
      },
      async start() {
        const p = spawnTs(NODE_MAIN, ['start', '--config', servicesConfig], {}, record('services'));
        procs.add(p);
        servicesProcess = p;
        const exitedEarly = p.exited.then((code) => {
          throw new Error(`the services exited with ${String(code)}:\n${output.slice(-20).join('\n')}`);
        });
        exitedEarly.catch(() => undefined); // after the start, an exit is the test's business
        const healthy = until(async () => {
          if (!p.running) throw new Error(`the services exited:\n${output.slice(-20).join('\n')}`);
          const up = await Promise.all(
            [coordinatorUrl, poolUrl].map((u) =>
              fetch(`${u}/health`).then(
                (r) => r.ok,
                () => false,
              ),
            ),
          );
          return up.every(Boolean) ? true : undefined;
        }, 60_000);
        await withTimeout(Promise.race([healthy, exitedEarly]), 70_000, 'the services did not start');
      },
      async kill() {
        const p = servicesProcess;
        servicesProcess = undefined;
        await p?.kill();
      },
    };
    await services.start();

    const miners = minerIds.map((id, i) => {
      const seed = generateKeyPair().seed;
      const publicKey = publicKeyFromSeed(seed);
      const events: MinerEvent[] = [];
      let current: RigProcess | undefined;
      const miner: RigMiner = {
        id,
        apiKey: minerKeys[id]!,
        seed,
        publicKey,
        address: addressFromPublicKey(publicKey),
        events,
        get process() {
          return current;
        },
        async start() {
          const since = Date.now();
          const log = record(id);
          const p = spawnTs(
            CLI_MAIN,
            [
              'miner',
              'start',
              '--miner-id',
              id,
              '--price',
              `${options.prices[i]!}base`,
              '--kinds',
              'wasm',
              '--chain-id',
              network.chainId,
              '--poll-wait',
              '1',
              '--json',
            ],
            {
              HOME: network.dir,
              AITBC_CONFIG: join(network.dir, `cli-${id}.json`),
              AITBC_COORDINATOR: coordinatorUrl,
              AITBC_API_KEY: minerKeys[id]!,
              AITBC_MINER_SEED: bytesToHex(seed),
            },
            (line, stream) => {
              log(line);
              if (stream === 'stdout' && line.startsWith('{')) events.push(JSON.parse(line) as MinerEvent);
            },
          );
          procs.add(p);
          current = p;
          await until(async () => {
            if (!p.running) throw new Error(`${id} exited:\n${output.slice(-20).join('\n')}`);
            const res = await fetch(`${poolUrl}/v1/miners/${id}`, { headers: { 'x-api-key': poolAdminKey } });
            if (res.status !== 200) return undefined;
            const m = (await res.json()) as { address: string; status: { last_heartbeat_at: string | number | null } };
            const at = m.status.last_heartbeat_at;
            const ms = typeof at === 'number' ? at : at === null ? 0 : Date.parse(at);
            return m.address === miner.address && ms >= since ? true : undefined;
          }, 60_000);
        },
        async kill() {
          const p = current;
          current = undefined;
          await p?.kill();
        },
      };
      return miner;
    }) as unknown as readonly [RigMiner, RigMiner];
    await Promise.all(miners.map((m) => m.start()));

    return {
      network,
      node: createNodeClient({ baseUrl: nodeUrl }),
      nodeUrl,
      chainId: network.chainId,
      faucet: { address: network.faucet.address, seed: network.faucet.seed },
      coordinator: { address: addressFromPublicKey(coordinatorKey.publicKey), publicKey: coordinatorKey.publicKey },
      coordinatorUrl,
      poolUrl,
      clientKey,
      poolAdminKey,
      miners,
      services,
      output,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** `aitbc-node api-key add --file <file> <args>`, run in process; the plaintext key it printed. */
async function addKey(file: string, args: readonly string[]): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['api-key', 'add', '--file', file, ...args], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: {},
    stopSignal: () => new Promise(() => undefined),
  });
  if (code !== 0 || out.length !== 1) throw new Error(`api-key add failed (${code}): ${err.join('\n')}`);
  return out[0]!;
}

/** `promise`, or a rejection with `message` after `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
