import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { AitbcError } from '@aitbc/crypto';
import { parse as parseYaml } from 'yaml';

/**
 * Roles a node process can run. `validator` and `follower` run the chain; `wallet` runs the wallet
 * daemon; `coordinator` runs the coordinator (job engine, marketplace, settler) with its pool hub;
 * `pool` runs a pool hub on its own.
 */
export type NodeRole = 'validator' | 'follower' | 'wallet' | 'coordinator' | 'pool';

/** Every role {@link loadNodeConfig} accepts. */
export const NODE_ROLES: readonly NodeRole[] = Object.freeze([
  'validator',
  'follower',
  'wallet',
  'coordinator',
  'pool',
]);

/** Log levels of the node's structured logs. */
export type NodeLogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

/** A validated node configuration: paths are absolute, numbers are in range. */
export interface NodeConfig {
  readonly role: NodeRole;
  /** Name shown in logs (default: the role). */
  readonly name: string;
  /** Data directory: the chain database lives in `<dataDir>/chain`. */
  readonly dataDir: string;
  /** Genesis file (JSON). */
  readonly genesis: string;
  /** Encrypted keystore of the node key (the validator key for validators). */
  readonly keystore: string;
  /** File holding the keystore passphrase (mode 0600) when `AITBC_KEY_PASSPHRASE` is not set. */
  readonly passphraseFile: string | undefined;
  readonly rpc: {
    readonly host: string;
    readonly port: number;
    /** Largest request body in bytes. */
    readonly bodyLimit: number;
    /** Requests per JSON-RPC batch. */
    readonly maxBatch: number;
    /** Requests per client IP per minute. */
    readonly rateLimit: number;
    /** Submitted transactions waiting for admission, all clients together (more: `RPC_BUSY`). */
    readonly maxPendingTxs: number;
    /** CORS origins allowed (none by default). */
    readonly corsOrigins: readonly string[];
  };
  readonly p2p: {
    readonly host: string;
    readonly port: number;
    /** Peer URLs to dial (`ws://host:port`). */
    readonly peers: readonly string[];
  };
  readonly mempool: {
    /** Most transactions held. */
    readonly maxTxs: number;
    /** Most pending transactions per sender. */
    readonly maxPerSender: number;
    /** Most gossiped transactions received and not yet admitted; further gossip batches are dropped. */
    readonly maxIntakeTxs: number;
    /** Most bytes (of the frames they came in) of gossiped transactions not yet admitted. */
    readonly maxIntakeBytes: number;
    /** Most bytes of the local transaction journal (`<dataDir>/tx-journal.ndjson`); 0: no journal. */
    readonly journalMaxBytes: number;
    /** Share of the thread (%) tx intake keeps while a block is built, validated or imported (100: no priority). */
    readonly intakeShare: number;
  };
  /** Admission control of API submissions from the measured capacity (see `admissionControl.ts`). */
  readonly admission: {
    /** Backlog admitted, as time of measured finalized throughput (ms; 0: admission control off). */
    readonly budgetMs: number;
    /** Backlog always admitted (a fresh or idle node). */
    readonly minBacklogTxs: number;
    /** Window of the finalized-throughput measurement (ms). */
    readonly windowMs: number;
  };
  readonly consensus: {
    /** How long a validator waits for the proposal before prevoting nil (ms). */
    readonly timeoutProposeMs: number;
    /** How long it waits on split prevotes/precommits before moving on (ms). */
    readonly timeoutVoteMs: number;
    /** Added to every timeout per round (ms). */
    readonly timeoutDeltaMs: number;
  };
  readonly wallet: {
    readonly host: string;
    readonly port: number;
    /** Node API the wallet daemon reads balances from and sends through. */
    readonly nodeUrl: string;
    /** Chain id of the transactions it signs. */
    readonly chainId: string;
  };
  /** The pool hub (role `pool`; role `coordinator` serves its in-process hub here when `apiKeysFile` is set). */
  readonly pool: {
    readonly host: string;
    readonly port: number;
    /** API keys file (see `aitbc-node api-key add`); required for role `pool`. */
    readonly apiKeysFile: string | undefined;
  };
  /** The coordinator (role `coordinator`). */
  readonly coordinator: {
    readonly host: string;
    readonly port: number;
    /** API keys file (see `aitbc-node api-key add`); required for role `coordinator`. */
    readonly apiKeysFile: string | undefined;
    /** Node API the settler submits `escrow.settle` through. */
    readonly nodeUrl: string;
    /** Chain id (receipts, settlements and wallet logins are bound to it). */
    readonly chainId: string;
    /** This coordinator's id, bound into login challenges and receipts. */
    readonly id: string;
    /** A miner silent this long (no heartbeat) loses its jobs (ms). */
    readonly leaseMs: number;
    /** Runs of a job before it fails for good. */
    readonly maxAttempts: number;
    /** Interval of the lease/expiry sweep (ms). */
    readonly sweepIntervalMs: number;
    /** Longest miner long-poll (s). */
    readonly maxPollSeconds: number;
    /** Interval of the settler's pass over unsettled jobs (ms). */
    readonly settleIntervalMs: number;
    /** Submissions of one settlement before it is given up. */
    readonly settleMaxAttempts: number;
    /** How long the settler waits for the client's escrow lock to land (ms). */
    readonly settleLockWaitMs: number;
  };
  readonly log: { readonly level: NodeLogLevel };
}

type Kind =
  | { readonly t: 'enum'; readonly values: readonly string[] }
  | { readonly t: 'int'; readonly min: number; readonly max: number }
  | { readonly t: 'port' }
  | { readonly t: 'host' }
  | { readonly t: 'path' }
  | { readonly t: 'name' }
  | { readonly t: 'url' }
  | { readonly t: 'urls'; readonly scheme: 'ws' | 'http' };

/** One configuration key: its place in the file, its environment variable, what it expects. */
export interface NodeConfigKey {
  /** Dotted path in the config file, e.g. `rpc.port`. */
  readonly key: string;
  /** The environment variable that overrides it, e.g. `AITBC_RPC_PORT`. */
  readonly env: string;
  /** What a valid value looks like (used in error messages and the README table). */
  readonly expected: string;
  /** Default value as text (`—` when required). */
  readonly default: string;
  /** What it does. */
  readonly description: string;
}

interface KeySpec extends NodeConfigKey {
  readonly kind: Kind;
  readonly value: ((c: Partial<Record<string, unknown>>) => unknown) | undefined;
}

const envOf = (key: string) =>
  `AITBC_${key
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/\./g, '_')
    .toUpperCase()}`;

function spec(key: string, kind: Kind, expected: string, def: unknown, description: string): KeySpec {
  return {
    key,
    env: envOf(key),
    kind,
    expected,
    default: def === undefined ? '—' : Array.isArray(def) ? (def.length === 0 ? '(none)' : def.join(',')) : String(def),
    description,
    value: def === undefined ? undefined : () => def,
  };
}

const PORT = 'an integer port in 0..65535 (0 = any free port)';
const SPECS: readonly KeySpec[] = [
  spec(
    'role',
    { t: 'enum', values: NODE_ROLES },
    `one of ${NODE_ROLES.join('|')}`,
    'validator',
    'What this process runs.',
  ),
  spec(
    'name',
    { t: 'name' },
    'a name of 1–64 letters, digits, ".", "_" or "-"',
    undefined,
    'Name in logs (default: the role).',
  ),
  spec('dataDir', { t: 'path' }, 'a directory path', undefined, 'Data directory (chain database in `chain/`).'),
  spec('genesis', { t: 'path' }, 'a path to a genesis JSON file', undefined, 'Genesis file.'),
  spec(
    'keystore',
    { t: 'path' },
    'a path to an encrypted keystore file',
    undefined,
    'Node key (validator key; chain key of role coordinator).',
  ),
  spec(
    'passphraseFile',
    { t: 'path' },
    'a path to a file holding the passphrase',
    undefined,
    'Keystore passphrase file (mode 0600); `AITBC_KEY_PASSPHRASE` wins.',
  ),
  spec('rpc.host', { t: 'host' }, 'a host name or IP address', '127.0.0.1', 'Node API listen address.'),
  spec('rpc.port', { t: 'port' }, PORT, 8006, 'Node API port (REST, JSON-RPC, /ws, /metrics).'),
  spec(
    'rpc.bodyLimit',
    { t: 'int', min: 1024, max: 64 * 1024 * 1024 },
    'an integer number of bytes in 1024..67108864',
    1024 * 1024,
    'Largest request body.',
  ),
  spec('rpc.maxBatch', { t: 'int', min: 1, max: 10_000 }, 'an integer in 1..10000', 500, 'Calls per JSON-RPC batch.'),
  spec(
    'rpc.rateLimit',
    { t: 'int', min: 1, max: 100_000_000 },
    'an integer in 1..100000000',
    6000,
    'Requests per client IP per minute.',
  ),
  spec(
    'rpc.maxPendingTxs',
    { t: 'int', min: 1, max: 1_000_000 },
    'an integer in 1..1000000',
    20_000,
    'Submitted txs waiting for admission, all clients together; more are refused with `RPC_BUSY` (503).',
  ),
  spec(
    'rpc.corsOrigins',
    { t: 'urls', scheme: 'http' },
    'a list (or comma-separated string) of http(s)://host[:port] origins',
    [],
    'CORS allowlist.',
  ),
  spec('p2p.host', { t: 'host' }, 'a host name or IP address', '127.0.0.1', 'Peer listen address.'),
  spec('p2p.port', { t: 'port' }, PORT, 8005, 'Peer port (WebSocket).'),
  spec(
    'p2p.peers',
    { t: 'urls', scheme: 'ws' },
    'a list (or comma-separated string) of ws://host:port URLs',
    [],
    'Peers to dial and keep connected.',
  ),
  spec(
    'mempool.maxTxs',
    { t: 'int', min: 1, max: 1_000_000 },
    'an integer in 1..1000000',
    50_000,
    'Most pending transactions.',
  ),
  spec(
    'mempool.maxPerSender',
    { t: 'int', min: 1, max: 100_000 },
    'an integer in 1..100000',
    256,
    'Most pending transactions per sender.',
  ),
  spec(
    'mempool.maxIntakeTxs',
    { t: 'int', min: 1, max: 1_000_000 },
    'an integer in 1..1000000',
    20_000,
    'Most gossiped transactions waiting to be admitted (decoded and verified); a batch that does not fit is dropped.',
  ),
  spec(
    'mempool.maxIntakeBytes',
    { t: 'int', min: 64 * 1024, max: 4 * 1024 * 1024 * 1024 },
    'an integer number of bytes in 65536..4294967296',
    64 * 1024 * 1024,
    'Most bytes of gossip frames whose transactions wait to be admitted; a frame that does not fit is dropped.',
  ),
  spec(
    'mempool.journalMaxBytes',
    { t: 'int', min: 0, max: 4 * 1024 * 1024 * 1024 },
    'an integer number of bytes in 0..4294967296',
    64 * 1024 * 1024,
    "Most bytes of the journal of transactions accepted from this node's API (`<dataDir>/tx-journal.ndjson`, synced before the API answers, replayed at start); 0 turns it off.",
  ),
  spec(
    'mempool.intakeShare',
    { t: 'int', min: 1, max: 100 },
    'an integer percentage in 1..100',
    25,
    'Share of the thread tx intake (gossiped and submitted) keeps while a block is built, validated or imported; 100 = no priority for them.',
  ),
  spec(
    'admission.budgetMs',
    { t: 'int', min: 0, max: 600_000 },
    'an integer number of ms in 0..600000',
    1500,
    'API submissions are refused with `RPC_BUSY` (503, Retry-After) while the backlog (mempool + gossip waiting for admission) exceeds this much of the measured finalized throughput; 0 = off.',
  ),
  spec(
    'admission.minBacklogTxs',
    { t: 'int', min: 1, max: 1_000_000 },
    'an integer in 1..1000000',
    1000,
    'Backlog always admitted, whatever the measured throughput (a fresh or idle node).',
  ),
  spec(
    'admission.windowMs',
    { t: 'int', min: 1000, max: 600_000 },
    'an integer number of ms in 1000..600000',
    5000,
    'Window over which the finalized throughput is measured.',
  ),
  spec(
    'consensus.timeoutProposeMs',
    { t: 'int', min: 10, max: 600_000 },
    'an integer number of ms in 10..600000',
    3000,
    'Wait for a proposal before prevoting nil.',
  ),
  spec(
    'consensus.timeoutVoteMs',
    { t: 'int', min: 10, max: 600_000 },
    'an integer number of ms in 10..600000',
    1000,
    'Wait on split prevotes/precommits.',
  ),
  spec(
    'consensus.timeoutDeltaMs',
    { t: 'int', min: 0, max: 600_000 },
    'an integer number of ms in 0..600000',
    500,
    'Added to each timeout per round.',
  ),
  spec(
    'wallet.host',
    { t: 'host' },
    'a host name or IP address',
    '127.0.0.1',
    'Wallet daemon listen address (role wallet).',
  ),
  spec('wallet.port', { t: 'port' }, PORT, 8002, 'Wallet daemon port (role wallet).'),
  spec(
    'wallet.nodeUrl',
    { t: 'url' },
    'an http(s)://host:port URL',
    'http://127.0.0.1:8006',
    'Node API the wallet daemon uses (role wallet).',
  ),
  spec(
    'wallet.chainId',
    { t: 'name' },
    'a chain id of 1–64 letters, digits, ".", "_" or "-"',
    'aitbc-devnet',
    'Chain of the transactions it signs (role wallet).',
  ),
  spec('pool.host', { t: 'host' }, 'a host name or IP address', '127.0.0.1', 'Pool hub listen address.'),
  spec('pool.port', { t: 'port' }, PORT, 8018, 'Pool hub port.'),
  spec(
    'pool.apiKeysFile',
    { t: 'path' },
    'a path to an API keys file (aitbc-node api-key add)',
    undefined,
    'Pool hub API keys (role pool; role coordinator serves its hub only when set).',
  ),
  spec('coordinator.host', { t: 'host' }, 'a host name or IP address', '127.0.0.1', 'Coordinator listen address.'),
  spec('coordinator.port', { t: 'port' }, PORT, 8000, 'Coordinator API port.'),
  spec(
    'coordinator.apiKeysFile',
    { t: 'path' },
    'a path to an API keys file (aitbc-node api-key add)',
    undefined,
    'Coordinator API keys (role coordinator).',
  ),
  spec(
    'coordinator.nodeUrl',
    { t: 'url' },
    'an http(s)://host:port URL',
    'http://127.0.0.1:8006',
    'Node API the settler submits escrow.settle through.',
  ),
  spec(
    'coordinator.chainId',
    { t: 'name' },
    'a chain id of 1–64 letters, digits, ".", "_" or "-"',
    'aitbc-devnet',
    'Chain of receipts and settlements.',
  ),
  spec(
    'coordinator.id',
    { t: 'name' },
    'an id of 1–64 letters, digits, ".", "_" or "-"',
    'local-coordinator',
    'Coordinator id in login challenges.',
  ),
  spec(
    'coordinator.leaseMs',
    { t: 'int', min: 1_000, max: 3_600_000 },
    'an integer number of ms in 1000..3600000',
    30_000,
    'A miner without heartbeat this long loses its jobs.',
  ),
  spec(
    'coordinator.maxAttempts',
    { t: 'int', min: 1, max: 100 },
    'an integer in 1..100',
    3,
    'Runs of a job before it fails.',
  ),
  spec(
    'coordinator.sweepIntervalMs',
    { t: 'int', min: 50, max: 600_000 },
    'an integer number of ms in 50..600000',
    1_000,
    'Lease/expiry sweep interval.',
  ),
  spec(
    'coordinator.maxPollSeconds',
    { t: 'int', min: 1, max: 600 },
    'an integer number of seconds in 1..600',
    60,
    'Longest miner long-poll.',
  ),
  spec(
    'coordinator.settleIntervalMs',
    { t: 'int', min: 50, max: 600_000 },
    'an integer number of ms in 50..600000',
    1_000,
    'Settler pass interval.',
  ),
  spec(
    'coordinator.settleMaxAttempts',
    { t: 'int', min: 1, max: 1_000 },
    'an integer in 1..1000',
    10,
    'Submissions of a settlement before giving up.',
  ),
  spec(
    'coordinator.settleLockWaitMs',
    { t: 'int', min: 0, max: 86_400_000 },
    'an integer number of ms in 0..86400000',
    600_000,
    'Wait for the escrow lock to land.',
  ),
  spec(
    'log.level',
    { t: 'enum', values: ['silent', 'error', 'warn', 'info', 'debug'] },
    'one of silent|error|warn|info|debug',
    'info',
    'Log level.',
  ),
];

/** Every configuration key with its environment variable, expected form and default. */
export const NODE_CONFIG_KEYS: readonly NodeConfigKey[] = Object.freeze(
  SPECS.map(({ key, env, expected, default: d, description }) =>
    Object.freeze({ key, env, expected, default: d, description }),
  ),
);

/** One bad value found by {@link loadNodeConfig}. */
export interface NodeConfigProblem {
  readonly key: string;
  readonly env: string;
  readonly expected: string;
  /** Where the bad value came from: the file or the environment variable. */
  readonly source: 'file' | 'env' | 'default';
  /** The value as given (text; omitted for secrets — none of the keys is one). */
  readonly got?: string;
}

/** Options of {@link loadNodeConfig}. */
export interface LoadNodeConfigOptions {
  /** Config file (`.json`, `.yaml` or `.yml`); relative paths inside it resolve against its directory. */
  readonly file?: string;
  /** Environment (default `process.env`); `AITBC_*` variables override file values. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values that win over the file and the environment (command-line flags). */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** Directory relative paths from the environment resolve against (default `process.cwd()`). */
  readonly cwd?: string;
}

function readFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AitbcError('NODE_CONFIG_UNREADABLE', `cannot read config file ${file}`, {
      details: { file, reason: (err as NodeJS.ErrnoException).code ?? 'unknown' },
    });
  }
  let parsed: unknown;
  const ext = extname(file).toLowerCase();
  try {
    parsed = ext === '.yaml' || ext === '.yml' ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new AitbcError(
      'NODE_CONFIG_BAD_SYNTAX',
      `config file ${file} is not valid ${ext === '.json' || ext === '' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
      { details: { file } },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new AitbcError('NODE_CONFIG_BAD_SYNTAX', `config file ${file} must hold an object of keys`, {
      details: { file },
    });
  return parsed as Record<string, unknown>;
}

/** Flattens `{rpc:{port:1}}` into `{'rpc.port': 1}`; unknown keys are reported. */
function flatten(
  obj: Record<string, unknown>,
  known: ReadonlySet<string>,
  unknown: string[],
  prefix = '',
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    if (known.has(path)) out.set(path, v);
    else if (
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      [...known].some((x) => x.startsWith(`${path}.`))
    )
      for (const [kk, vv] of flatten(v as Record<string, unknown>, known, unknown, path)) out.set(kk, vv);
    else unknown.push(path);
  }
  return out;
}

const HOST = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:]+\]?$/;
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const MISSING = Symbol('missing');

/** Converts one raw value; `undefined` means invalid. */
function convert(kind: Kind, raw: unknown, fromEnv: boolean, base: string): unknown {
  switch (kind.t) {
    case 'enum':
      return typeof raw === 'string' && kind.values.includes(raw) ? raw : undefined;
    case 'int':
    case 'port': {
      const n = fromEnv && typeof raw === 'string' && /^-?[0-9]+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
      const [min, max] = kind.t === 'port' ? [0, 65_535] : [kind.min, kind.max];
      return typeof n === 'number' && Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
    }
    case 'host':
      return typeof raw === 'string' && HOST.test(raw) ? raw : undefined;
    case 'name':
      return typeof raw === 'string' && NAME.test(raw) ? raw : undefined;
    case 'path':
      return typeof raw === 'string' && raw.length > 0 && !raw.includes('\0') ? resolve(base, raw) : undefined;
    case 'url':
      return typeof raw === 'string' && /^https?:\/\/[^/\s]+\/?$/.test(raw) ? raw.replace(/\/$/, '') : undefined;
    case 'urls': {
      const list =
        typeof raw === 'string'
          ? raw
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s.length > 0)
          : raw;
      if (!Array.isArray(list)) return undefined;
      const re = kind.scheme === 'ws' ? /^wss?:\/\/[^\s/]+\/?$/ : /^https?:\/\/[^/\s]+$/;
      return list.every((u) => typeof u === 'string' && re.test(u)) ? Object.freeze([...list]) : undefined;
    }
  }
}

function shown(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Loads the node configuration: defaults, then the file (JSON or YAML), then `AITBC_*` environment
 * variables, then `overrides`; validates every key and reports **every** bad value at once.
 *
 * @throws AitbcError `NODE_CONFIG_INVALID` (details.problems: one {@link NodeConfigProblem} per bad or
 * missing value; the message names each key, its environment variable and what is expected),
 * `NODE_CONFIG_UNKNOWN_KEY` (a key in the file that does not exist — usually a typo),
 * `NODE_CONFIG_UNREADABLE`, `NODE_CONFIG_BAD_SYNTAX`.
 */
export function loadNodeConfig(options: LoadNodeConfigOptions = {}): NodeConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const known = new Set(SPECS.map((s) => s.key));
  const unknown: string[] = [];
  const fileValues =
    options.file === undefined ? new Map<string, unknown>() : flatten(readFile(options.file), known, unknown);
  if (unknown.length > 0)
    throw new AitbcError(
      'NODE_CONFIG_UNKNOWN_KEY',
      `unknown config key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in ${options.file}; known keys: ${[...known].join(', ')}`,
      { details: { keys: unknown } },
    );
  const fileBase = options.file === undefined ? cwd : dirname(resolve(cwd, options.file));
  const problems: NodeConfigProblem[] = [];
  const values = new Map<string, unknown>();
  for (const s of SPECS) {
    let raw: unknown = MISSING;
    let source: NodeConfigProblem['source'] = 'default';
    let base = cwd;
    if (Object.hasOwn(options.overrides ?? {}, s.key)) raw = options.overrides?.[s.key];
    else if (env[s.env] !== undefined && env[s.env] !== '') {
      raw = env[s.env];
      source = 'env';
    } else if (fileValues.has(s.key)) {
      raw = fileValues.get(s.key);
      source = 'file';
      base = fileBase;
    }
    if (raw === MISSING) {
      if (s.value !== undefined) values.set(s.key, s.value({}));
      continue;
    }
    const v = convert(s.kind, raw, source === 'env', base);
    if (v === undefined) problems.push({ key: s.key, env: s.env, expected: s.expected, source, got: shown(raw) });
    else values.set(s.key, v);
  }
  const role = (values.get('role') ?? 'validator') as NodeRole;
  const required =
    role === 'wallet'
      ? ['dataDir']
      : role === 'pool'
        ? ['dataDir', 'pool.apiKeysFile']
        : role === 'coordinator'
          ? ['dataDir', 'keystore', 'coordinator.apiKeysFile']
          : ['dataDir', 'genesis', 'keystore'];
  for (const key of required)
    if (!values.has(key) && !problems.some((p) => p.key === key)) {
      const s = SPECS.find((x) => x.key === key) as KeySpec;
      problems.push({ key, env: s.env, expected: `${s.expected} (required for role ${role})`, source: 'default' });
    }
  if (problems.length > 0) {
    const lines = problems.map(
      (p) =>
        `  ${p.key} (${p.env}): expected ${p.expected}${p.got === undefined ? ', got nothing' : `, got ${p.got}`}${p.source === 'default' ? '' : ` [from ${p.source}]`}`,
    );
    throw new AitbcError('NODE_CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`, {
      details: { problems: problems as unknown as Record<string, unknown>[] },
    });
  }
  const g = <T>(key: string) => values.get(key) as T;
  return Object.freeze({
    role,
    name: values.has('name') ? g<string>('name') : role,
    dataDir: g<string>('dataDir'),
    genesis: g<string>('genesis'),
    keystore: g<string>('keystore'),
    passphraseFile: values.has('passphraseFile') ? g<string>('passphraseFile') : undefined,
    rpc: Object.freeze({
      host: g<string>('rpc.host'),
      port: g<number>('rpc.port'),
      bodyLimit: g<number>('rpc.bodyLimit'),
      maxBatch: g<number>('rpc.maxBatch'),
      rateLimit: g<number>('rpc.rateLimit'),
      maxPendingTxs: g<number>('rpc.maxPendingTxs'),
      corsOrigins: g<readonly string[]>('rpc.corsOrigins'),
    }),
    p2p: Object.freeze({
      host: g<string>('p2p.host'),
      port: g<number>('p2p.port'),
      peers: g<readonly string[]>('p2p.peers'),
    }),
    mempool: Object.freeze({
      maxTxs: g<number>('mempool.maxTxs'),
      maxPerSender: g<number>('mempool.maxPerSender'),
      maxIntakeTxs: g<number>('mempool.maxIntakeTxs'),
      maxIntakeBytes: g<number>('mempool.maxIntakeBytes'),
      journalMaxBytes: g<number>('mempool.journalMaxBytes'),
      intakeShare: g<number>('mempool.intakeShare'),
    }),
    admission: Object.freeze({
      budgetMs: g<number>('admission.budgetMs'),
      minBacklogTxs: g<number>('admission.minBacklogTxs'),
      windowMs: g<number>('admission.windowMs'),
    }),
    consensus: Object.freeze({
      timeoutProposeMs: g<number>('consensus.timeoutProposeMs'),
      timeoutVoteMs: g<number>('consensus.timeoutVoteMs'),
      timeoutDeltaMs: g<number>('consensus.timeoutDeltaMs'),
    }),
    wallet: Object.freeze({
      host: g<string>('wallet.host'),
      port: g<number>('wallet.port'),
      nodeUrl: g<string>('wallet.nodeUrl'),
      chainId: g<string>('wallet.chainId'),
    }),
    pool: Object.freeze({
      host: g<string>('pool.host'),
      port: g<number>('pool.port'),
      apiKeysFile: values.has('pool.apiKeysFile') ? g<string>('pool.apiKeysFile') : undefined,
    }),
    coordinator: Object.freeze({
      host: g<string>('coordinator.host'),
      port: g<number>('coordinator.port'),
      apiKeysFile: values.has('coordinator.apiKeysFile') ? g<string>('coordinator.apiKeysFile') : undefined,
      nodeUrl: g<string>('coordinator.nodeUrl'),
      chainId: g<string>('coordinator.chainId'),
      id: g<string>('coordinator.id'),
      leaseMs: g<number>('coordinator.leaseMs'),
      maxAttempts: g<number>('coordinator.maxAttempts'),
      sweepIntervalMs: g<number>('coordinator.sweepIntervalMs'),
      maxPollSeconds: g<number>('coordinator.maxPollSeconds'),
      settleIntervalMs: g<number>('coordinator.settleIntervalMs'),
      settleMaxAttempts: g<number>('coordinator.settleMaxAttempts'),
      settleLockWaitMs: g<number>('coordinator.settleLockWaitMs'),
    }),
    log: Object.freeze({ level: g<NodeLogLevel>('log.level') }),
  }) as NodeConfig;
}
