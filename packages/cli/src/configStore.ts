import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { AitbcError } from '@aitbc/crypto';

/**
 * One setting a profile can hold.
 *
 * @example
 * ```ts
 * import { CONFIG_KEYS, type ConfigKeySpec } from '@aitbc/cli';
 * const node: ConfigKeySpec = CONFIG_KEYS.find((k) => k.key === 'node')!;
 * console.log(node.env, `--${node.flag}`, node.default); // 'AITBC_NODE' '--node' 'http://127.0.0.1:…'
 * ```
 */
export interface ConfigKeySpec {
  /** Key in the profile (and in `aitbc config get|set`). */
  readonly key: ConfigKey;
  /** Environment variable that overrides it. */
  readonly env: string;
  /** Global flag that overrides both. */
  readonly flag: string;
  /** `url` values must be absolute http(s) URLs; `secret` values are masked when shown. */
  readonly kind: 'url' | 'secret' | 'publicKey';
  readonly default?: string;
  readonly description: string;
}

/**
 * The settings keys.
 *
 * @example
 * ```ts
 * import type { ConfigKey } from '@aitbc/cli';
 * const key: ConfigKey = 'coordinator';
 * const url = config.values[key];
 * ```
 */
export type ConfigKey =
  | 'node'
  | 'coordinator'
  | 'pool'
  | 'wallet'
  | 'apiKey'
  | 'adminKey'
  | 'poolKey'
  | 'walletToken'
  | 'coordinatorKey';

/**
 * Every setting, in display order. URL defaults are DESIGN.md §7's ports on 127.0.0.1.
 *
 * @example
 * ```ts
 * import { CONFIG_KEYS, maskSecret } from '@aitbc/cli';
 * for (const k of CONFIG_KEYS) {
 *   const v = config.values[k.key];
 *   console.log(k.key, v === undefined ? '-' : k.kind === 'secret' ? maskSecret(v) : v);
 * }
 * ```
 */
export const CONFIG_KEYS: readonly ConfigKeySpec[] = [
  {
    key: 'node',
    env: 'AITBC_NODE',
    flag: 'node',
    kind: 'url',
    default: 'http://127.0.0.1:8006',
    description: 'node API URL',
  },
  {
    key: 'coordinator',
    env: 'AITBC_COORDINATOR',
    flag: 'coordinator',
    kind: 'url',
    default: 'http://127.0.0.1:8000',
    description: 'coordinator API URL',
  },
  {
    key: 'pool',
    env: 'AITBC_POOL',
    flag: 'pool',
    kind: 'url',
    default: 'http://127.0.0.1:8018',
    description: 'pool hub URL',
  },
  {
    key: 'wallet',
    env: 'AITBC_WALLET',
    flag: 'wallet',
    kind: 'url',
    default: 'http://127.0.0.1:8002',
    description: 'wallet daemon URL',
  },
  {
    key: 'apiKey',
    env: 'AITBC_API_KEY',
    flag: 'api-key',
    kind: 'secret',
    description: 'API key for the coordinator (role client or miner)',
  },
  {
    key: 'adminKey',
    env: 'AITBC_ADMIN_KEY',
    flag: 'admin-key',
    kind: 'secret',
    description: 'admin API key (admin commands)',
  },
  {
    key: 'poolKey',
    env: 'AITBC_POOL_KEY',
    flag: 'pool-key',
    kind: 'secret',
    description: 'API key for the pool hub (defaults to the admin key)',
  },
  {
    key: 'walletToken',
    env: 'AITBC_WALLET_TOKEN',
    flag: 'wallet-token',
    kind: 'secret',
    description: 'bearer token of the wallet daemon',
  },
  {
    key: 'coordinatorKey',
    env: 'AITBC_COORDINATOR_KEY',
    flag: 'coordinator-key',
    kind: 'publicKey',
    description: 'the coordinator’s Ed25519 public key, hex: pinned for receipts, its address named in escrows',
  },
];

/**
 * One profile: any subset of the settings.
 *
 * @example
 * ```ts
 * import type { Profile } from '@aitbc/cli';
 * const devnet: Profile = { node: 'http://127.0.0.1:8006', apiKey: 'client-key' };
 * ```
 */
export type Profile = Partial<Record<ConfigKey, string>>;

/**
 * The config file.
 *
 * @example
 * ```ts
 * import { type ConfigFile, configPath, writeConfigFile } from '@aitbc/cli';
 * const file: ConfigFile = { defaultProfile: 'devnet', profiles: { devnet: { node: 'http://127.0.0.1:8006' } } };
 * writeConfigFile(configPath(process.env), file);
 * ```
 */
export interface ConfigFile {
  /** Profile used when neither `--profile` nor `AITBC_PROFILE` is given (default `default`). */
  defaultProfile?: string;
  profiles: Record<string, Profile>;
}

/**
 * Where a resolved value came from.
 *
 * @example
 * ```ts
 * import type { ConfigSource } from '@aitbc/cli';
 * const from: ConfigSource | undefined = config.sources.node; // 'flag' | 'env' | 'profile' | 'default'
 * if (from === 'default') console.log('using the default node URL');
 * ```
 */
export type ConfigSource = 'flag' | 'env' | 'profile' | 'default';

/**
 * The settings in force for one run.
 *
 * @example
 * ```ts
 * import { resolveConfig } from '@aitbc/cli';
 * const config = resolveConfig({ env: process.env, flags: {} });
 * console.log(config.path, config.profile, config.values.node, config.sources.node);
 * ```
 */
export interface CliConfig {
  /** Path of the config file (it may not exist). */
  readonly path: string;
  /** The selected profile's name. */
  readonly profile: string;
  /** Resolved values (absent when unset everywhere). */
  readonly values: Readonly<Partial<Record<ConfigKey, string>>>;
  /** Where each resolved value came from. */
  readonly sources: Readonly<Partial<Record<ConfigKey, ConfigSource>>>;
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function configError(code: string, message: string, hint: string): AitbcError {
  return new AitbcError(code, message, { details: { hint } });
}

/**
 * The config file path: `$AITBC_CONFIG`, else `$XDG_CONFIG_HOME/aitbc/config.json`, else `~/.config/aitbc/config.json`.
 *
 * @example
 * ```ts
 * import { configPath } from '@aitbc/cli';
 * configPath({ HOME: '/home/ada' }); // '/home/ada/.config/aitbc/config.json'
 * configPath({ AITBC_CONFIG: '/etc/aitbc.json' }); // '/etc/aitbc.json'
 * ```
 */
export function configPath(env: Readonly<Record<string, string | undefined>>): string {
  if (env.AITBC_CONFIG) return env.AITBC_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'aitbc', 'config.json');
}

/** The spec of a key, or `CLI_CONFIG_UNKNOWN_KEY`. */
export function configKeySpec(key: string): ConfigKeySpec {
  const spec = CONFIG_KEYS.find((k) => k.key === key);
  if (spec === undefined)
    throw configError(
      'CLI_CONFIG_UNKNOWN_KEY',
      `unknown config key "${key}"`,
      `keys: ${CONFIG_KEYS.map((k) => k.key).join(', ')}`,
    );
  return spec;
}

/** Validates one value for a key (URLs must be absolute http(s) URLs; secrets non-empty, printable). */
export function validateConfigValue(key: ConfigKey, value: string, origin: string): string {
  const spec = configKeySpec(key);
  if (spec.kind === 'url') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw configError(
        'CLI_CONFIG_BAD_VALUE',
        `${origin}: "${value}" is not a URL`,
        'write it like http://127.0.0.1:8006',
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw configError(
        'CLI_CONFIG_BAD_VALUE',
        `${origin}: "${value}" is not an http(s) URL`,
        'write it like http://127.0.0.1:8006',
      );
    return value.replace(/\/+$/, '');
  }
  if (spec.kind === 'publicKey') {
    const hex = value.replace(/^0x/, '').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hex))
      throw configError(
        'CLI_CONFIG_BAD_VALUE',
        `${origin}: "${value}" is not a 32-byte public key in hex`,
        'write 64 hex digits (the coordinator prints its public key at start-up)',
      );
    return hex;
  }
  if (value.length === 0 || value.length > 4096 || !/^[\x21-\x7e]+$/.test(value))
    throw configError(
      'CLI_CONFIG_BAD_VALUE',
      `${origin}: must be 1 to 4096 printable characters without spaces`,
      'check the key you pasted',
    );
  return value;
}

/**
 * Reads the config file; a missing file is an empty config.
 *
 * @example
 * ```ts
 * import { configPath, readConfigFile } from '@aitbc/cli';
 * const file = readConfigFile(configPath(process.env)); // { profiles: {} } when the file is missing
 * console.log(Object.keys(file.profiles));
 * ```
 */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} };
    throw configError(
      'CLI_CONFIG_UNREADABLE',
      `cannot read ${path}: ${(e as Error).message}`,
      'check the path and its permissions',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw configError(
      'CLI_CONFIG_BAD_FILE',
      `${path} is not valid JSON`,
      'fix or delete the file; `aitbc config set` writes a fresh one',
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw configError('CLI_CONFIG_BAD_FILE', `${path} must hold a JSON object`, 'see `aitbc help config set`');
  const o = raw as Record<string, unknown>;
  const file: ConfigFile = { profiles: {} };
  if (o.defaultProfile !== undefined) {
    if (typeof o.defaultProfile !== 'string' || !PROFILE_NAME.test(o.defaultProfile))
      throw configError(
        'CLI_CONFIG_BAD_FILE',
        `${path}: defaultProfile must be a profile name`,
        'see `aitbc config profiles`',
      );
    file.defaultProfile = o.defaultProfile;
  }
  const profiles = o.profiles ?? {};
  if (typeof profiles !== 'object' || profiles === null || Array.isArray(profiles))
    throw configError('CLI_CONFIG_BAD_FILE', `${path}: profiles must be an object`, 'see `aitbc help config set`');
  for (const [name, p] of Object.entries(profiles as Record<string, unknown>)) {
    if (!PROFILE_NAME.test(name) || typeof p !== 'object' || p === null || Array.isArray(p))
      throw configError(
        'CLI_CONFIG_BAD_FILE',
        `${path}: profile "${name}" must be an object with a simple name`,
        'see `aitbc help config set`',
      );
    const profile: Profile = {};
    for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
      const spec = configKeySpec(k);
      if (typeof v !== 'string')
        throw configError(
          'CLI_CONFIG_BAD_FILE',
          `${path}: profiles.${name}.${k} must be a string`,
          'see `aitbc help config set`',
        );
      profile[spec.key] = validateConfigValue(spec.key, v, `${path}: profiles.${name}.${k}`);
    }
    file.profiles[name] = profile;
  }
  return file;
}

/**
 * Writes the config file atomically with mode 0600 (it holds API keys), creating its directory with
 * mode 0700; an existing file with a wider mode is narrowed.
 *
 * @example
 * ```ts
 * import { configPath, readConfigFile, writeConfigFile } from '@aitbc/cli';
 * const path = configPath(process.env);
 * const file = readConfigFile(path);
 * writeConfigFile(path, { ...file, profiles: { ...file.profiles, local: { node: 'http://127.0.0.1:8006' } } });
 * ```
 */
export function writeConfigFile(path: string, file: ConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** True when the file exists and others than its owner may read or write it. */
export function configFileTooOpen(path: string): boolean {
  try {
    return (statSync(path).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/** Checks a profile name. */
export function validateProfileName(name: string): string {
  if (!PROFILE_NAME.test(name))
    throw configError('CLI_CONFIG_BAD_PROFILE', `bad profile name "${name}"`, 'use letters, digits, ".", "_" and "-"');
  return name;
}

/** The profile a run uses: `--profile`, else `AITBC_PROFILE`, else the file's default, else `default`. */
export function selectProfile(
  file: ConfigFile,
  env: Readonly<Record<string, string | undefined>>,
  flag: string | undefined,
): string {
  return validateProfileName(flag ?? (env.AITBC_PROFILE || undefined) ?? file.defaultProfile ?? 'default');
}

/**
 * Resolves the settings of one run: flag, then `AITBC_*` environment variable, then profile, then
 * default. A named profile (flag or env) that the file lacks is an error, unless `allowNewProfile`.
 *
 * @example
 * ```ts
 * import { isAitbcError } from '@aitbc/crypto';
 * import { resolveConfig } from '@aitbc/cli';
 * try {
 *   const config = resolveConfig({ env: process.env, flags: { node: 'http://127.0.0.1:8006' }, profile: 'devnet' });
 * } catch (e) {
 *   if (isAitbcError(e) && e.code === 'CLI_CONFIG_UNKNOWN_PROFILE') console.error(e.details?.hint);
 * }
 * ```
 */
export function resolveConfig(options: {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly flags: Readonly<Partial<Record<string, string>>>;
  readonly profile?: string;
  readonly allowNewProfile?: boolean;
}): CliConfig {
  const path = options.flags.config ?? configPath(options.env);
  const file = readConfigFile(path);
  const profile = selectProfile(file, options.env, options.profile);
  const stored = file.profiles[profile];
  const named = options.profile !== undefined || !!options.env.AITBC_PROFILE;
  if (stored === undefined && named && !options.allowNewProfile && Object.keys(file.profiles).length > 0)
    throw configError(
      'CLI_CONFIG_UNKNOWN_PROFILE',
      `no profile "${profile}" in ${path}`,
      `profiles: ${Object.keys(file.profiles).join(', ')}`,
    );
  const values: Partial<Record<ConfigKey, string>> = {};
  const sources: Partial<Record<ConfigKey, ConfigSource>> = {};
  for (const spec of CONFIG_KEYS) {
    const flag = options.flags[spec.flag];
    const env = options.env[spec.env];
    if (flag !== undefined) {
      values[spec.key] = validateConfigValue(spec.key, flag, `--${spec.flag}`);
      sources[spec.key] = 'flag';
    } else if (env !== undefined && env !== '') {
      values[spec.key] = validateConfigValue(spec.key, env, spec.env);
      sources[spec.key] = 'env';
    } else if (stored?.[spec.key] !== undefined) {
      values[spec.key] = stored[spec.key]!;
      sources[spec.key] = 'profile';
    } else if (spec.default !== undefined) {
      values[spec.key] = spec.default;
      sources[spec.key] = 'default';
    }
  }
  return { path, profile, values, sources };
}

/**
 * Masks a secret for display: the first 4 characters and the length.
 *
 * @example
 * ```ts
 * import { maskSecret } from '@aitbc/cli';
 * maskSecret('sk-1234567890abcdef'); // 'sk-1…(19 chars)'
 * ```
 */
export function maskSecret(value: string): string {
  return value.length <= 8 ? `****(${value.length})` : `${value.slice(0, 4)}…(${value.length} chars)`;
}
