import { AitbcError, bytesToHex, constantTimeEqual, hexToBytes, sha256, utf8ToBytes } from '@aitbc/crypto';

/**
 * The hash to put in a server's configuration for an API key: hex SHA-256 of its UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { hashApiKey } from '@aitbc/service-kit';
 * const entry = { role: 'admin', hash: hashApiKey(process.env.ADMIN_API_KEY ?? '') }; // store the hash, not the key
 * ```
 */
export function hashApiKey(apiKey: string): string {
  return bytesToHex(sha256(utf8ToBytes(apiKey)));
}

/**
 * Who a request acts as.
 *
 * @example
 * ```ts
 * import type { Principal } from '@aitbc/service-kit';
 * const principal: Principal = { role: 'client', subject: clientAddress };
 * ```
 */
export interface Principal {
  /** Role name, e.g. `client`, `miner`, `admin`. */
  readonly role: string;
  /** Whom the credential is bound to (a client address, a miner id), if anyone. */
  readonly subject?: string;
}

/**
 * One configured API key: its SHA-256 hash (hex), its role and optional subject.
 *
 * @example
 * ```ts
 * import { type ApiKeyEntry, ApiKeyRing, hashApiKey } from '@aitbc/service-kit';
 * const miner: ApiKeyEntry = { hash: hashApiKey('miner-key'), role: 'miner', subject: 'gpu-1' };
 * new ApiKeyRing([miner]).principalOf('miner-key'); // { role: 'miner', subject: 'gpu-1' }
 * ```
 */
export interface ApiKeyEntry extends Principal {
  readonly hash: string;
}

/**
 * API keys stored hashed, resolved to principals by constant-time comparison of hashes against every
 * entry (no early exit, so timing does not reveal which entry matched).
 *
 * @example
 * ```ts
 * const ring = new ApiKeyRing([{ hash: hashApiKey('s3cret'), role: 'admin' }]);
 * ring.principalOf('s3cret'); // { role: 'admin' }
 * ```
 */
export class ApiKeyRing {
  readonly #entries: { principal: Principal; hash: Uint8Array }[] = [];

  /** @throws AitbcError `SERVICE_BAD_CONFIG` for a hash that is not 32 bytes of hex, or a role that is not a word. */
  constructor(entries: readonly ApiKeyEntry[]) {
    for (const e of entries) {
      if (typeof e.role !== 'string' || !/^[a-z][a-z0-9_-]{0,31}$/.test(e.role)) {
        throw new AitbcError('SERVICE_BAD_CONFIG', 'API key roles must be lowercase words');
      }
      let hash: Uint8Array;
      try {
        hash = hexToBytes(e.hash, 32);
      } catch (cause) {
        throw new AitbcError(
          'SERVICE_BAD_CONFIG',
          `API key hashes for role "${e.role}" must be 32-byte SHA-256 hashes in hex`,
          { cause },
        );
      }
      this.#entries.push({
        principal: e.subject === undefined ? { role: e.role } : { role: e.role, subject: e.subject },
        hash,
      });
    }
  }

  /** The principal of a presented key, or `undefined`. */
  principalOf(apiKey: string | undefined): Principal | undefined {
    if (apiKey === undefined || apiKey.length === 0 || apiKey.length > 256) return undefined;
    const presented = sha256(utf8ToBytes(apiKey));
    let found: Principal | undefined;
    for (const e of this.#entries) {
      if (constantTimeEqual(presented, e.hash) && found === undefined) found = e.principal;
    }
    return found;
  }
}

/**
 * Builds key entries from a `{role: [hash, …]}` map (no subjects).
 *
 * @example
 * ```ts
 * import { apiKeyEntries, ApiKeyRing } from '@aitbc/service-kit';
 * const ring = new ApiKeyRing(apiKeyEntries({ admin: [adminHash], miner: minerHashes }));
 * ```
 */
export function apiKeyEntries(byRole: Readonly<Record<string, readonly string[] | undefined>>): ApiKeyEntry[] {
  return Object.entries(byRole).flatMap(([role, hashes]) => (hashes ?? []).map((hash) => ({ role, hash })));
}
