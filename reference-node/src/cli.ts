import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AitbcError, isAitbcError } from '@aitbc/crypto';
import { addApiKey, readApiKeysFile, removeApiKey } from './apiKeys.js';
import { startCoordinatorRole } from './coordinatorRole.js';
import { startDevnet } from './devnet.js';
import { initNetwork } from './initNetwork.js';
import { loadNodeConfig, NODE_CONFIG_KEYS } from './nodeConfig.js';
import { startPoolRole } from './poolRole.js';
import { startNode } from './startNode.js';
import { createValidatorEngine } from './validatorEngine.js';
import { startWalletRole } from './walletRole.js';

/** Where the CLI reads its environment and writes its output (replaceable in tests). */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM), with the signal name. */
  readonly stopSignal: () => Promise<string>;
}

/** Exit code of a usage or configuration error (bad flag, bad config value, bad key file...). */
export const EXIT_USAGE = 2;

const USAGE = `aitbc-node — the AITBC reference node

Usage:
  aitbc-node init    [--dir DIR] [--validators N] [--followers N] [--chain-id ID] [--block-time-ms MS]
                     [--rpc-port P] [--p2p-port P] [--fast-kdf]
  aitbc-node start   [--config FILE] [--role validator|follower|wallet|coordinator|pool]
  aitbc-node api-key add    --file FILE --role client|miner|admin|coordinator [--subject ADDRESS | --miner-id ID]
  aitbc-node api-key list   --file FILE
  aitbc-node api-key remove --file FILE --id ID
  aitbc-node devnet  [--dir DIR] [--validators N] [--block-time-ms MS] [--rpc-port P] [--p2p-port P]
                     [--pool-port P] [--coordinator-port P] [--wallet-port P] [--web-port P] [--nodes-only]
  aitbc-node config-keys      print every config key with its AITBC_* variable
  aitbc-node help

Keystores are encrypted with AITBC_KEY_PASSPHRASE, or a generated passphrase file (0600).
Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.`;

/** Codes that mean "the operator gave something wrong": exit code 2. */
function isUsageError(err: unknown): boolean {
  if (!isAitbcError(err)) return false;
  return (
    /^NODE_(USAGE|CONFIG_|INIT_|KEY_|API_KEYS_|NOT_A_VALIDATOR|GENESIS_|DEVNET_MISMATCH|BAD_ROLE|ROLE_)/.test(
      err.code,
    ) ||
    err.code === 'CHAIN_BAD_GENESIS' ||
    err.code.startsWith('WALLET_')
  );
}

function usage(message: string): AitbcError {
  return new AitbcError('NODE_USAGE', message);
}

function intFlag(
  values: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  label = `--${name}`,
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw usage(`${label}: expected an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
  return n;
}

function parse(argv: readonly string[], options: Record<string, { type: 'string' | 'boolean' }>) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: false, strict: true }).values as Record<
      string,
      unknown
    >;
  } catch (err) {
    throw usage(`${(err as Error).message}\n\n${USAGE}`);
  }
}

function defaultIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    stopSignal: () =>
      new Promise((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      }),
  };
}

/**
 * Runs the `aitbc-node` command line (`argv` without the node and script paths) and resolves its exit
 * code: 0, 1 for a runtime failure, {@link EXIT_USAGE} for a usage or configuration error (the message
 * names the flag or config key and what is expected).
 */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'init':
        return await init(rest, io);
      case 'start':
        return await start(rest, io);
      case 'devnet':
        return await devnet(rest, io);
      case 'api-key':
        return apiKey(rest, io);
      case 'config-keys':
        for (const k of NODE_CONFIG_KEYS) io.out(`${k.key.padEnd(29)} ${k.env.padEnd(35)} default ${k.default}`);
        return 0;
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return 0;
      default:
        throw usage(`${command === undefined ? 'no command given' : `unknown command "${command}"`}\n\n${USAGE}`);
    }
  } catch (err) {
    const code = isAitbcError(err) ? err.code : 'NODE_INTERNAL';
    io.err(`aitbc-node: ${code}: ${(err as Error).message}`);
    return isUsageError(err) ? EXIT_USAGE : 1;
  }
}

async function init(argv: readonly string[], io: CliIo): Promise<number> {
  const v = parse(argv, {
    dir: { type: 'string' },
    validators: { type: 'string' },
    followers: { type: 'string' },
    'chain-id': { type: 'string' },
    'block-time-ms': { type: 'string' },
    'rpc-port': { type: 'string' },
    'p2p-port': { type: 'string' },
    'fast-kdf': { type: 'boolean' },
  });
  const blockTimeMs = intFlag(v, 'block-time-ms', 10, 600_000);
  const validators = intFlag(v, 'validators', 1, 100);
  const followers = intFlag(v, 'followers', 0, 100);
  const rpcPort = intFlag(v, 'rpc-port', 1, 65_535);
  const p2pPort = intFlag(v, 'p2p-port', 1, 65_535);
  const net = await initNetwork({
    dir: (v.dir as string | undefined) ?? './.aitbc/network',
    env: io.env,
    ...(validators !== undefined ? { validators } : {}),
    ...(followers !== undefined ? { followers } : {}),
    ...(typeof v['chain-id'] === 'string' ? { chainId: v['chain-id'] } : {}),
    ...(blockTimeMs !== undefined ? { params: { blockTimeMs } } : {}),
    ...(rpcPort !== undefined ? { rpcPort } : {}),
    ...(p2pPort !== undefined ? { p2pPort } : {}),
    ...(v['fast-kdf'] === true ? { kdf: 'fast' as const } : {}),
  });
  io.out(`initialized chain ${net.chainId} in ${net.dir}`);
  io.out(`  genesis      ${net.genesisPath}`);
  io.out(`  passphrase   ${net.passphraseFile ?? 'from AITBC_KEY_PASSPHRASE (not written)'}`);
  for (const n of net.nodes) io.out(`  ${n.name.padEnd(12)} ${n.role.padEnd(9)} ${n.address}  config ${n.configPath}`);
  io.out(`  demo account ${net.faucet.address}`);
  io.out(`Run a node: aitbc-node start --config ${net.nodes[0]?.configPath}`);
  return 0;
}

async function start(argv: readonly string[], io: CliIo): Promise<number> {
  const v = parse(argv, { config: { type: 'string' }, role: { type: 'string' } });
  const config = loadNodeConfig({
    ...(typeof v.config === 'string' ? { file: v.config } : {}),
    env: io.env,
    ...(typeof v.role === 'string' ? { overrides: { role: v.role } } : {}),
  });
  const stopped = io.stopSignal();
  const node: { stop(): Promise<void> } =
    config.role === 'wallet'
      ? await startWalletRole(config)
      : config.role === 'pool'
        ? await startPoolRole(config)
        : config.role === 'coordinator'
          ? await startCoordinatorRole(config, { env: io.env })
          : await startNode(config, { env: io.env, validatorEngine: createValidatorEngine });
  const signal = await stopped;
  io.out(`${signal}: stopping ${config.name}`);
  await node.stop();
  return 0;
}

/** `aitbc-node api-key add|list|remove`: keys files hold hashes only; `add` prints the key once. */
function apiKey(argv: readonly string[], io: CliIo): number {
  const [sub, ...rest] = argv;
  const v = parse(rest, {
    file: { type: 'string' },
    role: { type: 'string' },
    subject: { type: 'string' },
    'miner-id': { type: 'string' },
    id: { type: 'string' },
  });
  const file = v.file;
  if (typeof file !== 'string') throw usage(`api-key ${sub ?? ''}: --file FILE is required\n\n${USAGE}`);
  switch (sub) {
    case 'add': {
      if (typeof v.role !== 'string') throw usage('api-key add: --role is required');
      if (typeof v.subject === 'string' && typeof v['miner-id'] === 'string')
        throw usage('api-key add: give --subject or --miner-id, not both');
      const subject = (v['miner-id'] ?? v.subject) as string | undefined;
      const { key, stored } = addApiKey(file, { role: v.role, ...(subject !== undefined ? { subject } : {}) });
      io.out(key);
      io.err(
        `added key ${stored.id} (role ${stored.role}${stored.subject !== undefined ? `, subject ${stored.subject}` : ''}) to ${file}; the key above is shown only once — restart the server to use it`,
      );
      return 0;
    }
    case 'list':
      for (const k of readApiKeysFile(file))
        io.out(`${k.id}  ${k.role.padEnd(11)} ${(k.subject ?? '-').padEnd(40)} ${k.createdAt}`);
      return 0;
    case 'remove': {
      if (typeof v.id !== 'string') throw usage('api-key remove: --id is required');
      const k = removeApiKey(file, v.id);
      io.err(`removed key ${k.id} (role ${k.role}) from ${file}; restart the server to drop it`);
      return 0;
    }
    default:
      throw usage(`api-key: expected add, list or remove, got ${JSON.stringify(sub ?? '')}\n\n${USAGE}`);
  }
}

async function devnet(argv: readonly string[], io: CliIo): Promise<number> {
  const v = parse(argv, {
    dir: { type: 'string' },
    validators: { type: 'string' },
    'block-time-ms': { type: 'string' },
    'rpc-port': { type: 'string' },
    'p2p-port': { type: 'string' },
    'pool-port': { type: 'string' },
    'coordinator-port': { type: 'string' },
    'wallet-port': { type: 'string' },
    'web-port': { type: 'string' },
    'nodes-only': { type: 'boolean' },
  });
  const validators = intFlag(v, 'validators', 1, 100);
  const blockTimeMs = intFlag(v, 'block-time-ms', 10, 600_000);
  const rpcPort = intFlag(v, 'rpc-port', 1, 65_535);
  const p2pPort = intFlag(v, 'p2p-port', 1, 65_535);
  /** A service port: the flag, else its AITBC_* variable (0 = any free port). */
  const servicePort = (flag: string, variable: string) =>
    intFlag(v, flag, 0, 65_535) ?? intFlag({ p: io.env[variable] }, 'p', 0, 65_535, variable);
  const poolPort = servicePort('pool-port', 'AITBC_POOL_PORT');
  const coordinatorPort = servicePort('coordinator-port', 'AITBC_COORDINATOR_PORT');
  const walletPort = servicePort('wallet-port', 'AITBC_WALLET_PORT');
  const webPort = servicePort('web-port', 'AITBC_WEB_PORT');
  const stopped = io.stopSignal();
  const net = await startDevnet({
    env: io.env,
    ...(typeof v.dir === 'string' ? { dir: v.dir } : {}),
    ...(validators !== undefined ? { validators } : {}),
    ...(blockTimeMs !== undefined ? { blockTimeMs } : {}),
    ...(rpcPort !== undefined ? { rpcPort } : {}),
    ...(p2pPort !== undefined ? { p2pPort } : {}),
    ...(poolPort !== undefined ? { poolPort } : {}),
    ...(coordinatorPort !== undefined ? { coordinatorPort } : {}),
    ...(walletPort !== undefined ? { walletPort } : {}),
    webPort: webPort ?? 8080,
    services: v['nodes-only'] !== true,
  });
  const node0 = net.nodes[0]?.rpcUrl ?? '';
  const s = net.services;
  io.out(`
AITBC devnet: ${net.nodes.length} validators on chain ${net.chainId} (data in ${net.dir})
`);
  for (const n of net.nodes) io.out(`  ${n.name.padEnd(12)} API ${n.rpcUrl}   p2p ${n.p2pUrl}   pid ${n.process.pid}`);
  io.out(
    `  openapi      ${node0}/docs/openapi.json   metrics: ${node0}/metrics   ws: ${node0.replace('http', 'ws')}/ws`,
  );
  if (s !== undefined) {
    io.out(`  coordinator  ${s.coordinatorUrl}   client key (bound to the demo account): ${s.keys.coordinatorClient}`);
    io.out(`  pool hub     ${s.poolUrl}   health: ${s.poolUrl}/health   metrics: ${s.poolUrl}/metrics`);
    io.out(`  wallet       ${s.walletUrl}   bearer token in ${s.walletTokenFile}`);
    io.out(`  admin key    ${s.keys.admin}`);
    io.out(`  pool client  ${s.keys.poolClient}`);
    if (net.web !== undefined) io.out(`  web          ${net.web.url}/explorer/   ${net.web.url}/marketplace/`);
    else if (net.webError !== undefined) io.out(`  web          not served: ${net.webError}`);
    io.out(
      `  miner key    ${s.keys.miner} (coordinator role miner, miner id ${s.minerId}; its seed: ${join(net.dir, 'miner.key')})`,
    );
    if (s.demoMiner !== undefined)
      io.out(`  demo miner   ${s.demoMiner.id} ${s.demoMiner.address} (runs hash and wasm jobs, region local)`);
    io.out(`  devnet.json  ${join(net.dir, 'devnet.json')} (these URLs and keys, mode 0600; read by npm run demo)`);
  }
  io.out(`  demo account ${net.faucet.address} (funded at genesis; keystore ${net.faucet.keystore})`);
  io.out(
    `  coordinator  account ${net.coordinator.address}: name it in escrow.lock; completed jobs are settled on chain via node-0`,
  );
  io.out(`  passphrase   ${net.passphraseFile ?? 'AITBC_KEY_PASSPHRASE'}`);
  io.out(`
Try:
  curl -s ${node0}/rpc/head
  curl -s ${node0}/rpc/validators
  curl -s ${node0}/rpc/get_balance/${net.faucet.address}`);
  if (s !== undefined)
    io.out(`  curl -s -X POST ${s.coordinatorUrl}/v1/jobs -H 'content-type: application/json' -H 'x-api-key: ${s.keys.coordinatorClient}' \\
       -d '{"kind":"hash","input":{"data":"aGVsbG8"},"max_price":"1000"}'
  curl -s -X POST ${s.poolUrl}/v1/match -H 'content-type: application/json' -H 'x-api-key: ${s.keys.poolClient}' \\
       -d '{"requirements":{"job_kind":"hash"},"top_k":3}'`);
  io.out('\nCtrl-C to stop.');
  const outcome = await Promise.race([stopped.then((signal) => ({ signal })), net.failed]);
  if ('signal' in outcome) {
    io.out(`\n${outcome.signal}: stopping the devnet…`);
    await net.stop();
    io.out('stopped.');
    return 0;
  }
  io.err(`${outcome.name} exited with ${String(outcome.code)}; stopping the devnet`);
  await net.stop();
  return 1;
}
