import { AitbcError, bytesToHex, constantTimeEqual, hexToBytes, sha256, utf8ToBytes } from '@aitbc/crypto';

/** Roles of the pool hub API. */
export type PoolRole = 'admin' | 'coordinator' | 'miner' | 'client';

/** API keys per role, stored as SHA-256 hashes (hex) — the plain keys never reach the server config. */
export type ApiKeyHashes = Readonly<Partial<Record<PoolRole, readonly string[]>>>;

/** The hash to put in the server configuration for an API key (hex SHA-256 of its UTF-8 bytes). */
export function hashApiKey(apiKey: string): string {
  return bytesToHex(sha256(utf8ToBytes(apiKey)));
}

/**
 * Resolves API keys to roles by comparing hashes in constant time.
 * @internal
 */
export class ApiKeyRing {
  readonly #entries: { role: PoolRole; hash: Uint8Array }[] = [];

  constructor(hashes: ApiKeyHashes) {
    for (const [role, list] of Object.entries(hashes) as [PoolRole, readonly string[]][]) {
      for (const h of list) {
        try {
          this.#entries.push({ role, hash: hexToBytes(h, 32) });
        } catch (cause) {
          throw new AitbcError('POOL_BAD_CONFIG', `apiKeys.${role} must hold 32-byte SHA-256 hashes in hex`, { cause });
        }
      }
    }
  }

  /** The role of a presented key, or `undefined`. Compares against every entry (no early exit). */
  roleOf(apiKey: string | undefined): PoolRole | undefined {
    if (apiKey === undefined || apiKey.length === 0 || apiKey.length > 256) return undefined;
    const presented = sha256(utf8ToBytes(apiKey));
    let found: PoolRole | undefined;
    for (const e of this.#entries) {
      if (constantTimeEqual(presented, e.hash) && found === undefined) found = e.role;
    }
    return found;
  }
}
