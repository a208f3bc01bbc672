import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { AitbcError, bytesToBase64url, randomBytes } from '@aitbc/crypto';
import { type ApiKeyEntry, hashApiKey } from '@aitbc/pool';

/** One key of an API keys file: only the SHA-256 hash of the key is stored. */
export interface StoredApiKey {
  /** Short id for listing and removal (the first 12 hex digits of the hash). */
  readonly id: string;
  /** Role: coordinator `client` | `miner` | `admin`; pool hub `admin` | `coordinator` | `miner` | `client`. */
  readonly role: string;
  /** Whom the key is bound to: the client's `ait1…` address, the miner id. */
  readonly subject?: string;
  /** Hex SHA-256 of the key (see `hashApiKey`). */
  readonly hash: string;
  /** When it was added (ISO 8601). */
  readonly createdAt: string;
}

/** Roles an API key may have. */
export const API_KEY_ROLES: readonly string[] = Object.freeze(['admin', 'client', 'miner', 'coordinator']);

const HASH = /^[0-9a-f]{64}$/;
const SUBJECT = /^[A-Za-z0-9._:-]{1,128}$/;

function bad(file: string, message: string): AitbcError {
  return new AitbcError('NODE_API_KEYS_INVALID', `API keys file ${file}: ${message}`, { details: { file } });
}

/**
 * Reads an API keys file (`{"keys":[{id, role, subject?, hash, createdAt}]}`); a missing file when
 * `allowMissing` is an empty list. The file must not be writable by group or others.
 * @throws AitbcError `NODE_API_KEYS_UNREADABLE`, `NODE_API_KEYS_INVALID`, `NODE_API_KEYS_FILE_MODE`.
 */
export function readApiKeysFile(file: string, allowMissing = false): StoredApiKey[] {
  if (allowMissing && !existsSync(file)) return [];
  let text: string;
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AitbcError('NODE_API_KEYS_UNREADABLE', `cannot read the API keys file ${file}`, {
      details: { file, reason: (err as NodeJS.ErrnoException).code ?? 'unknown' },
    });
  }
  if ((mode & 0o022) !== 0)
    throw new AitbcError(
      'NODE_API_KEYS_FILE_MODE',
      `the API keys file ${file} is writable by others (mode ${mode.toString(8)}); chmod 600 it`,
      { details: { file, mode: mode.toString(8) } },
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad(file, 'not valid JSON');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw bad(file, 'expected an object {"keys": [...]}');
  return keys.map((k: unknown, i) => {
    const e = k as Partial<Record<keyof StoredApiKey, unknown>> | null;
    if (e === null || typeof e !== 'object') throw bad(file, `keys[${i}] is not an object`);
    if (typeof e.hash !== 'string' || !HASH.test(e.hash))
      throw bad(file, `keys[${i}].hash: expected 64 lowercase hex digits (a SHA-256 hash, never the key)`);
    if (typeof e.role !== 'string' || !API_KEY_ROLES.includes(e.role))
      throw bad(file, `keys[${i}].role: expected one of ${API_KEY_ROLES.join('|')}`);
    if (e.subject !== undefined && (typeof e.subject !== 'string' || !SUBJECT.test(e.subject)))
      throw bad(file, `keys[${i}].subject: expected 1–128 letters, digits, ".", "_", ":" or "-"`);
    return {
      id: typeof e.id === 'string' ? e.id : e.hash.slice(0, 12),
      role: e.role,
      ...(typeof e.subject === 'string' ? { subject: e.subject } : {}),
      hash: e.hash,
      createdAt: typeof e.createdAt === 'string' ? e.createdAt : '',
    };
  });
}

function writeApiKeysFile(file: string, keys: readonly StoredApiKey[]): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * Adds a fresh random API key to `file` (created with mode 0600 if missing) and returns the plaintext
 * key — the only time it exists: the file keeps its hash.
 * @throws AitbcError `NODE_API_KEYS_BAD_ROLE`, `NODE_API_KEYS_SUBJECT_REQUIRED` (roles `client` and
 * `miner` are bound to an address / miner id), and the codes of {@link readApiKeysFile}.
 */
export function addApiKey(
  file: string,
  entry: { readonly role: string; readonly subject?: string },
): { readonly key: string; readonly stored: StoredApiKey } {
  if (!API_KEY_ROLES.includes(entry.role))
    throw new AitbcError(
      'NODE_API_KEYS_BAD_ROLE',
      `--role: expected one of ${API_KEY_ROLES.join('|')}, got ${JSON.stringify(entry.role)}`,
    );
  if ((entry.role === 'client' || entry.role === 'miner') && entry.subject === undefined)
    throw new AitbcError(
      'NODE_API_KEYS_SUBJECT_REQUIRED',
      `a ${entry.role} key is bound to ${entry.role === 'miner' ? 'a miner id: give --miner-id ID' : 'an address: give --subject ait1…'}`,
    );
  if (entry.subject !== undefined && !SUBJECT.test(entry.subject))
    throw new AitbcError(
      'NODE_API_KEYS_BAD_SUBJECT',
      `--subject/--miner-id: expected 1–128 letters, digits, ".", "_", ":" or "-"`,
    );
  const keys = readApiKeysFile(file, true);
  const key = bytesToBase64url(randomBytes(32));
  const hash = hashApiKey(key);
  const stored: StoredApiKey = {
    id: hash.slice(0, 12),
    role: entry.role,
    ...(entry.subject !== undefined ? { subject: entry.subject } : {}),
    hash,
    createdAt: new Date().toISOString(),
  };
  writeApiKeysFile(file, [...keys, stored]);
  return { key, stored };
}

/**
 * Removes the key with id `id` from `file` (key rotation: add the new key, restart, remove the old one,
 * restart).
 * @throws AitbcError `NODE_API_KEYS_UNKNOWN_ID`, and the codes of {@link readApiKeysFile}.
 */
export function removeApiKey(file: string, id: string): StoredApiKey {
  const keys = readApiKeysFile(file);
  const found = keys.find((k) => k.id === id);
  if (found === undefined)
    throw new AitbcError('NODE_API_KEYS_UNKNOWN_ID', `no key with id ${JSON.stringify(id)} in ${file}`, {
      details: { file },
    });
  writeApiKeysFile(
    file,
    keys.filter((k) => k !== found),
  );
  return found;
}

/**
 * The keys of `file` as server entries, keeping only the roles the server knows.
 * @throws AitbcError `NODE_API_KEYS_WRONG_ROLE` for a key with a role the server does not have, and the
 * codes of {@link readApiKeysFile}.
 */
export function apiKeyEntries(file: string, roles: readonly string[]): ApiKeyEntry[] {
  return readApiKeysFile(file).map((k) => {
    if (!roles.includes(k.role))
      throw new AitbcError(
        'NODE_API_KEYS_WRONG_ROLE',
        `API keys file ${file}: key ${k.id} has role ${k.role}; this server knows ${roles.join('|')}`,
        { details: { file, id: k.id } },
      );
    return { role: k.role, hash: k.hash, ...(k.subject !== undefined ? { subject: k.subject } : {}) };
  });
}
