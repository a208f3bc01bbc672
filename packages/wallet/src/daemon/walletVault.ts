import { join } from 'node:path';
import type { TxBody } from '@aitbc/chain-core';
import {
  AitbcError,
  bytesToBase64url,
  bytesToHex,
  type CanonicalValue,
  isAitbcError,
  randomBytes,
  sha256,
  utf8ToBytes,
} from '@aitbc/crypto';
import { createKeystore, type DeriveKey, type KdfParams, type Keystore, unlockKeystore } from '../keystore.js';
import { generateMnemonic, seedFromMnemonic } from '../mnemonic.js';
import { createWalletSigner, type MessageSignature, type WalletSigner } from '../walletSigner.js';
import { KeystoreDirectory } from './keystoreDirectory.js';
import type { UnlockThrottle } from './unlockThrottle.js';
import type { WalletNode, WalletTxStatus } from './walletNode.js';

/**
 * A stored wallet as the API shows it (no secret).
 *
 * @example
 * ```ts
 * import type { WalletInfo } from '@aitbc/wallet/daemon';
 * const wallets: WalletInfo[] = vault.list();
 * for (const w of wallets) console.log(w.id, w.address, w.unlocked ? 'unlocked' : 'locked', w.kdf.m);
 * ```
 */
export interface WalletInfo {
  readonly id: string;
  readonly address: string;
  /** Lowercase hex. */
  readonly publicKey: string;
  /** Whether a session is open. */
  readonly unlocked: boolean;
  /** Argon2id parameters of the stored file. */
  readonly kdf: KdfParams & { readonly name: 'argon2id' };
}

/**
 * What the vault logs (pino-compatible). Never passed a secret.
 *
 * @example
 * ```ts
 * import type { VaultLogger } from '@aitbc/wallet/daemon';
 * const log: VaultLogger = { info: (o, m) => console.log(m, o), warn: (o, m) => console.warn(m, o), debug: () => {} };
 * ```
 */
export interface VaultLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/**
 * Options of {@link WalletVault}.
 *
 * @example
 * ```ts
 * import { UnlockThrottle, WalletVault, type WalletVaultOptions } from '@aitbc/wallet/daemon';
 * import { deriveKey, MIN_KDF } from '@aitbc/wallet';
 * const options: WalletVaultOptions = { dir: './keystores', chainId: 'aitbc-devnet', kdf: MIN_KDF, derive: deriveKey,
 *   sessionTtlMs: { default: 300_000, max: 3_600_000 }, maxSessionsPerWallet: 8, throttle: new UnlockThrottle(),
 *   defaultFee: 1n, log: console };
 * const vault = new WalletVault(options);
 * ```
 */
export interface WalletVaultOptions {
  /** Keystore directory (created 0700). */
  readonly dir: string;
  /** Chain access for balances and sends (optional: without it the daemon signs only). */
  readonly node?: WalletNode;
  /** Chain id for transactions and the default of message signing. */
  readonly chainId: string;
  /** Argon2id parameters of new and upgraded files. */
  readonly kdf: KdfParams;
  /** The key-derivation function (the daemon's worker thread). */
  readonly derive: DeriveKey;
  /** Default and maximum session lifetime in ms. */
  readonly sessionTtlMs: { readonly default: number; readonly max: number };
  /** Sessions per wallet (oldest closed beyond it). */
  readonly maxSessionsPerWallet: number;
  readonly throttle: UnlockThrottle;
  /** Fee of a send that names none (base units). */
  readonly defaultFee: bigint;
  readonly log: VaultLogger;
  /** Poll interval while waiting for finality (ms). */
  readonly pollMs?: number;
}

/**
 * An unlocked session.
 *
 * @example
 * ```ts
 * import type { SessionGrant } from '@aitbc/wallet/daemon';
 * const grant: SessionGrant = await vault.unlock(walletId, passphrase, 60_000);
 * const sig = vault.sign(walletId, grant.session, 'login', undefined, { nonce }); // until grant.expiresAt
 * ```
 */
export interface SessionGrant {
  /** Bearer of the unlocked key: pass it to sign and send (base64url, 32 random bytes). */
  readonly session: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/**
 * The transaction part of a send (nonce and sender are the vault's).
 *
 * @example
 * ```ts
 * import type { SendBody } from '@aitbc/wallet/daemon';
 * const body: SendBody = { type: 'transfer', to: 'ait1…', amount: 250n };
 * const result = await vault.send(walletId, session, body, { wait: true });
 * ```
 */
export type SendBody =
  | { readonly type: 'transfer'; readonly to: string; readonly amount: bigint }
  | {
      readonly type: 'escrow.lock';
      readonly jobId: string;
      readonly amount: bigint;
      readonly coordinator: string;
      readonly expiresAtHeight: number;
    }
  | { readonly type: 'escrow.refund'; readonly jobId: string };

/**
 * The result of a send.
 *
 * @example
 * ```ts
 * import type { SendResult } from '@aitbc/wallet/daemon';
 * const sent: SendResult = await vault.send(walletId, session, { type: 'transfer', to, amount: 5n }, { wait: true });
 * console.log(sent.id, sent.nonce, sent.status, sent.height); // status 'final' once committed
 * ```
 */
export interface SendResult {
  /** `0x` + 64 hex. */
  readonly id: string;
  readonly nonce: number;
  readonly fee: string;
  readonly status: WalletTxStatus['status'] | 'submitted';
  readonly height?: number;
}

interface Stored {
  keystore: Keystore;
  text: string;
}

interface Session {
  readonly walletId: string;
  readonly signer: WalletSigner;
  readonly expiresAt: number;
  readonly timer: ReturnType<typeof setTimeout>;
}

const tokenHash = (token: string) => bytesToHex(sha256(utf8ToBytes(token)));
const MAX_EXPIRED_REMEMBERED = 1_024;
/**
 * The costliest Argon2id a daemon accepts in an imported file (1 GiB, 16 passes): one unlock must not hold the KDF worker for minutes.
 *
 * @example
 * ```ts
 * import { MAX_IMPORT_KDF } from '@aitbc/wallet/daemon';
 * const tooCostly = keystore.kdf.m > MAX_IMPORT_KDF.m || keystore.kdf.t > MAX_IMPORT_KDF.t; // import refuses it
 * ```
 */
export const MAX_IMPORT_KDF: KdfParams = Object.freeze({ m: 1_048_576, t: 16, p: 16 });
const MAX_IDEMPOTENT = 1_024;
const IDEMPOTENCY_TTL_MS = 10 * 60_000;

/**
 * The wallet daemon's state: keystores on disk, unlocked sessions in memory (seed zeroed on lock or
 * expiry), per-wallet passphrase throttling, and per-address nonce tracking of this daemon's pending
 * transactions. The HTTP and JSON-RPC layers call it through the operation table.
 *
 * @example
 * ```ts
 * import { UnlockThrottle, WalletVault } from '@aitbc/wallet/daemon';
 * import { DEFAULT_KDF, deriveKey } from '@aitbc/wallet';
 * const vault = new WalletVault({ dir, chainId: 'aitbc-devnet', kdf: DEFAULT_KDF, derive: deriveKey, log: console,
 *   sessionTtlMs: { default: 300_000, max: 3_600_000 }, maxSessionsPerWallet: 8, throttle: new UnlockThrottle(), defaultFee: 1n });
 * await vault.open();
 * const { wallet, mnemonic } = await vault.create(passphrase, 24);
 * const { session } = await vault.unlock(wallet.id, passphrase, undefined);
 * ```
 */
export class WalletVault {
  readonly #o: WalletVaultOptions;
  readonly #dir: KeystoreDirectory;
  readonly #wallets = new Map<string, Stored>();
  readonly #byAddress = new Map<string, string>();
  readonly #sessions = new Map<string, Session>();
  readonly #expired = new Map<string, string>();
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #pending = new Map<string, number[]>();
  readonly #idempotent = new Map<string, { fingerprint: string; at: number; result: Promise<SendResult> }>();

  /** Construction does no I/O; call {@link WalletVault.open}. */
  constructor(options: WalletVaultOptions) {
    this.#o = options;
    this.#dir = new KeystoreDirectory(options.dir);
  }

  /** The keystore directory. */
  get directory(): KeystoreDirectory {
    return this.#dir;
  }

  /** Opens the directory and loads every stored keystore (unreadable files are logged and skipped). */
  async open(): Promise<void> {
    await this.#dir.open();
    for (const [id, text] of await this.#dir.readAll()) {
      try {
        const keystore = JSON.parse(text) as Keystore;
        if (keystore.id !== id || typeof keystore.address !== 'string') throw new Error('id mismatch');
        this.#remember({ keystore, text });
      } catch {
        this.#o.log.warn(
          { wallet: id, file: join(this.#dir.path, `${id}.json`) },
          'skipping an unreadable keystore file',
        );
      }
    }
  }

  /** Zeroes every session. */
  close(): void {
    for (const token of [...this.#sessions.keys()]) this.#end(token, false);
  }

  #remember(s: Stored): void {
    this.#wallets.set(s.keystore.id, s);
    this.#byAddress.set(s.keystore.address, s.keystore.id);
  }

  #info(id: string): WalletInfo {
    const { keystore: k } = this.#stored(id);
    let unlocked = false;
    for (const s of this.#sessions.values()) if (s.walletId === id && s.expiresAt > Date.now()) unlocked = true;
    return {
      id,
      address: k.address,
      publicKey: k.publicKey,
      unlocked,
      kdf: { name: 'argon2id', m: k.kdf.m, t: k.kdf.t, p: k.kdf.p },
    };
  }

  #stored(id: string): Stored {
    const s = typeof id === 'string' ? this.#wallets.get(id) : undefined;
    if (s === undefined)
      throw new AitbcError('WALLET_NOT_FOUND', 'no wallet with that id', { details: { id: String(id).slice(0, 64) } });
    return s;
  }

  /** Runs `fn` after every earlier call with the same key (a per-key mutex). */
  async #serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#queues.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#queues.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    }
  }

  async #save(seed: Uint8Array, passphrase: string): Promise<WalletInfo> {
    const keystore = await createKeystore(seed, passphrase, { kdf: this.#o.kdf, derive: this.#o.derive });
    return this.#add(keystore);
  }

  /** Stores a keystore unless its address is already stored (one store at a time, so no duplicates). */
  async #add(keystore: Keystore): Promise<WalletInfo> {
    return this.#serial('store', async () => {
      const existing = this.#byAddress.get(keystore.address);
      if (existing !== undefined)
        throw new AitbcError('WALLET_EXISTS', 'a wallet with this address is already stored', {
          details: { id: existing },
        });
      const text = JSON.stringify(keystore);
      await this.#dir.write(keystore.id, text);
      this.#remember({ keystore, text });
      this.#o.log.info({ wallet: keystore.id, address: keystore.address }, 'wallet stored');
      return this.#info(keystore.id);
    });
  }

  /** Creates a wallet from a fresh mnemonic; the mnemonic is returned once and never stored. */
  async create(passphrase: string, words: 12 | 24): Promise<{ wallet: WalletInfo; mnemonic: string }> {
    const mnemonic = generateMnemonic(words);
    const seed = await seedFromMnemonic(mnemonic);
    try {
      return { wallet: await this.#save(seed, passphrase), mnemonic };
    } finally {
      seed.fill(0);
    }
  }

  /** Restores a wallet from a mnemonic (SLIP-0010 account path). */
  async importMnemonic(
    passphrase: string,
    mnemonic: string,
    options: { bip39Passphrase?: string; account?: number },
  ): Promise<WalletInfo> {
    const seed = await seedFromMnemonic(mnemonic, options);
    try {
      return await this.#save(seed, passphrase);
    } finally {
      seed.fill(0);
    }
  }

  /**
   * Imports a keystore file after proving the passphrase opens it. Files below the daemon's
   * parameters, or with an id that is not 32 hex digits, are re-encrypted.
   */
  async importKeystore(passphrase: string, keystore: unknown): Promise<WalletInfo> {
    let head: unknown = keystore;
    if (typeof keystore === 'string') {
      try {
        head = JSON.parse(keystore);
      } catch {
        head = undefined; // unlockKeystore reports it as WALLET_TRUNCATED
      }
    }
    const kdf = (head as { kdf?: { m?: unknown; t?: unknown; p?: unknown } } | undefined)?.kdf;
    if (
      (typeof kdf?.m === 'number' && kdf.m > MAX_IMPORT_KDF.m) ||
      (typeof kdf?.t === 'number' && kdf.t > MAX_IMPORT_KDF.t) ||
      (typeof kdf?.p === 'number' && kdf.p > MAX_IMPORT_KDF.p)
    )
      throw new AitbcError(
        'WALLET_BAD_KDF',
        `this daemon imports Argon2id up to m = ${MAX_IMPORT_KDF.m} KiB, t = ${MAX_IMPORT_KDF.t}`,
        {
          details: { max: { ...MAX_IMPORT_KDF } },
        },
      );
    const { seed, upgraded } = await unlockKeystore(keystore as Keystore, passphrase, {
      upgradeTo: this.#o.kdf,
      derive: this.#o.derive,
    });
    try {
      // It decrypted, so it parses; keep only the format's fields.
      const k = (typeof keystore === 'string' ? JSON.parse(keystore) : keystore) as Keystore;
      const clean: Keystore = {
        version: k.version,
        id: k.id,
        address: k.address,
        publicKey: k.publicKey,
        kdf: { name: k.kdf.name, m: k.kdf.m, t: k.kdf.t, p: k.kdf.p, salt: k.kdf.salt },
        cipher: { name: k.cipher.name, nonce: k.cipher.nonce },
        check: k.check,
        ciphertext: k.ciphertext,
      };
      if (!/^[0-9a-f]{32}$/.test(clean.id)) return await this.#save(seed, passphrase);
      return await this.#add(upgraded ?? clean);
    } finally {
      seed.fill(0);
    }
  }

  /** Every stored wallet. */
  list(): WalletInfo[] {
    return [...this.#wallets.keys()].sort().map((id) => this.#info(id));
  }

  /** One wallet, with balance and nonce when a node is configured. */
  async get(id: string): Promise<WalletInfo & { balance?: string; nonce?: number }> {
    const info = this.#info(id);
    if (this.#o.node === undefined) return info;
    const account = await this.#nodeCall(() => this.#o.node!.account(info.address));
    return { ...info, balance: account.balance.toString(), nonce: account.nonce };
  }

  /**
   * Unlocks a wallet for `ttlMs`: attempts on one wallet run one at a time and wrong passphrases are
   * throttled. A file below the daemon's parameters is upgraded in place.
   */
  async unlock(id: string, passphrase: string, ttlMs: number | undefined): Promise<SessionGrant> {
    const stored = this.#stored(id);
    const ttl = ttlMs ?? this.#o.sessionTtlMs.default;
    if (!Number.isInteger(ttl) || ttl < 1_000 || ttl > this.#o.sessionTtlMs.max)
      throw new AitbcError(
        'WALLET_BAD_PARAMS',
        `ttlSeconds must be an integer in [1, ${this.#o.sessionTtlMs.max / 1000}]`,
        {
          details: { param: 'ttlSeconds' },
        },
      );
    return this.#serial(`unlock:${id}`, async () => {
      this.#o.throttle.check(id);
      let unlocked: Awaited<ReturnType<typeof unlockKeystore>>;
      try {
        unlocked = await unlockKeystore(stored.text, passphrase, { upgradeTo: this.#o.kdf, derive: this.#o.derive });
      } catch (err) {
        if (isAitbcError(err, 'WALLET_WRONG_PASSPHRASE')) {
          const delay = this.#o.throttle.failure(id);
          this.#o.log.warn({ wallet: id, failures: this.#o.throttle.failures(id), delayMs: delay }, 'wrong passphrase');
          if (delay > 0)
            throw new AitbcError('WALLET_WRONG_PASSPHRASE', 'the passphrase is wrong', {
              details: { retryAfterMs: delay },
            });
        }
        throw err;
      }
      this.#o.throttle.success(id);
      let signer: WalletSigner;
      try {
        if (unlocked.upgraded !== undefined && unlocked.upgraded.id === id) {
          const text = JSON.stringify(unlocked.upgraded);
          await this.#dir.write(id, text);
          this.#remember({ keystore: unlocked.upgraded, text });
          this.#o.log.info({ wallet: id, kdf: this.#o.kdf }, 'keystore upgraded to the current parameters');
        }
        signer = createWalletSigner(unlocked.seed);
      } finally {
        unlocked.seed.fill(0);
      }
      const token = bytesToBase64url(randomBytes(32));
      const expiresAt = Date.now() + ttl;
      const hash = tokenHash(token);
      const timer = setTimeout(() => this.#end(hash, true), ttl);
      timer.unref();
      this.#sessions.set(hash, { walletId: id, signer, expiresAt, timer });
      this.#trimSessions(id);
      this.#o.log.info({ wallet: id, expiresAt }, 'wallet unlocked');
      return { session: token, expiresAt };
    });
  }

  #trimSessions(id: string): void {
    const mine = [...this.#sessions.entries()].filter(([, s]) => s.walletId === id);
    for (const [hash] of mine.slice(0, Math.max(0, mine.length - this.#o.maxSessionsPerWallet))) this.#end(hash, false);
  }

  #end(hash: string, expired: boolean): void {
    const s = this.#sessions.get(hash);
    if (s === undefined) return;
    clearTimeout(s.timer);
    s.signer.wipe();
    this.#sessions.delete(hash);
    if (expired) {
      this.#expired.set(hash, s.walletId);
      if (this.#expired.size > MAX_EXPIRED_REMEMBERED)
        this.#expired.delete(this.#expired.keys().next().value as string);
      this.#o.log.info({ wallet: s.walletId }, 'session expired');
    }
  }

  /** Closes every session of a wallet (keys zeroed); resolves how many were open. */
  lock(id: string): { locked: true; sessionsClosed: number } {
    this.#stored(id);
    let n = 0;
    for (const [hash, s] of [...this.#sessions.entries()])
      if (s.walletId === id) {
        this.#end(hash, false);
        n++;
      }
    this.#o.log.info({ wallet: id, sessionsClosed: n }, 'wallet locked');
    return { locked: true, sessionsClosed: n };
  }

  #signer(id: string, token: unknown): WalletSigner {
    this.#stored(id);
    if (typeof token !== 'string' || token.length === 0 || token.length > 128)
      throw new AitbcError('WALLET_BAD_PARAMS', 'session must be the token returned by unlock', {
        details: { param: 'session' },
      });
    const hash = tokenHash(token);
    const s = this.#sessions.get(hash);
    if (s !== undefined && s.expiresAt <= Date.now()) this.#end(hash, true);
    const live = this.#sessions.get(hash);
    if (live !== undefined && live.walletId === id) return live.signer;
    if (live === undefined && this.#expired.get(hash) === id)
      throw new AitbcError('WALLET_SESSION_EXPIRED', 'the session has expired; unlock again');
    const open = [...this.#sessions.values()].some((x) => x.walletId === id);
    if (!open) throw new AitbcError('WALLET_LOCKED', 'the wallet is locked; unlock it first');
    throw new AitbcError('WALLET_BAD_SESSION', 'the session is not valid for this wallet');
  }

  /** Domain-separated message signing with an open session. */
  sign(
    id: string,
    token: unknown,
    kind: string,
    chainId: string | undefined,
    message: CanonicalValue,
  ): MessageSignature {
    return this.#signer(id, token).signMessage(kind, chainId ?? this.#o.chainId, message);
  }

  async #nodeCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isAitbcError(err) && !/(_HTTP_ERROR|_UNAVAILABLE|_BAD_RESPONSE)$/.test(err.code)) throw err;
      throw new AitbcError('WALLET_NODE_UNAVAILABLE', 'the node did not answer', { cause: err });
    }
  }

  /**
   * Builds, signs and submits a transaction with the next nonce: the account's nonce from the node,
   * or one past this daemon's own pending transactions of the address (so quick sends get
   * consecutive nonces). Sends of one address run one at a time. With `wait`, resolves once the
   * transaction is final (or throws `WALLET_WAIT_TIMEOUT`). A repeated `idempotencyKey` (per wallet,
   * kept 10 minutes) returns the first send's result instead of sending again; reusing it for another
   * body is `WALLET_IDEMPOTENCY_CONFLICT`.
   */
  async send(
    id: string,
    token: unknown,
    body: SendBody,
    options: { fee?: bigint; wait?: boolean; timeoutMs?: number; idempotencyKey?: string },
  ): Promise<SendResult> {
    const signer = this.#signer(id, token);
    const key = options.idempotencyKey;
    if (key === undefined) return this.#send(id, signer, body, options);
    const now = Date.now();
    for (const [k, v] of this.#idempotent) if (now - v.at > IDEMPOTENCY_TTL_MS) this.#idempotent.delete(k);
    const slot = `${id}\n${key}`;
    const fingerprint = JSON.stringify({ ...body, fee: options.fee?.toString() ?? null }, (_k, v) =>
      typeof v === 'bigint' ? v.toString() : v,
    );
    const seen = this.#idempotent.get(slot);
    if (seen !== undefined) {
      if (seen.fingerprint !== fingerprint)
        throw new AitbcError('WALLET_IDEMPOTENCY_CONFLICT', 'this idempotency key was used for another transaction');
      return seen.result;
    }
    const result = this.#send(id, signer, body, options);
    this.#idempotent.set(slot, { fingerprint, at: now, result });
    if (this.#idempotent.size > MAX_IDEMPOTENT) this.#idempotent.delete(this.#idempotent.keys().next().value as string);
    result.catch(() => {
      if (this.#idempotent.get(slot)?.result === result) this.#idempotent.delete(slot);
    });
    return result;
  }

  async #send(
    id: string,
    signer: WalletSigner,
    body: SendBody,
    options: { fee?: bigint; wait?: boolean; timeoutMs?: number },
  ): Promise<SendResult> {
    const node = this.#o.node;
    if (node === undefined) throw new AitbcError('WALLET_NO_NODE', 'the daemon has no node configured');
    const address = signer.address;
    const fee = options.fee ?? this.#o.defaultFee;
    const sent = await this.#serial(`send:${address}`, async () => {
      const account = await this.#nodeCall(() => node.account(address));
      const pending = (this.#pending.get(address) ?? []).filter((n) => n >= account.nonce);
      const nonce = Math.max(account.nonce, pending.length === 0 ? 0 : pending[pending.length - 1]! + 1);
      const signed = signer.signTx({ ...body, chainId: this.#o.chainId, from: address, nonce, fee } as TxBody);
      await this.#nodeCall(() => node.submitTx(signed.json));
      pending.push(nonce);
      this.#pending.set(address, pending);
      this.#o.log.info({ wallet: id, tx: signed.id, type: body.type, nonce }, 'transaction submitted');
      return { id: signed.id, nonce };
    });
    if (options.wait !== true) return { ...sent, fee: fee.toString(), status: 'submitted' };
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const st = await this.#nodeCall(() => node.txStatus(sent.id));
      if (st.status === 'final') {
        const p = this.#pending.get(address);
        if (p !== undefined)
          this.#pending.set(
            address,
            p.filter((n) => n !== sent.nonce),
          );
        return {
          ...sent,
          fee: fee.toString(),
          status: 'final',
          ...(st.height !== undefined ? { height: st.height } : {}),
        };
      }
      if (Date.now() >= deadline)
        throw new AitbcError('WALLET_WAIT_TIMEOUT', 'the transaction was not final in time', {
          details: { id: sent.id, status: st.status },
        });
      await new Promise((r) => setTimeout(r, this.#o.pollMs ?? 100));
    }
  }
}
