import { AitbcError, base64urlToBytes, type CanonicalValue, hexToBytes, isAddress } from '@aitbc/crypto';
import { parseReceiptJson, type ReceiptVerification, verifyReceiptAsync } from '@aitbc/receipts';
import type { SendBody, WalletVault } from './walletVault.js';

/**
 * JSON as the operations return it.
 *
 * @example
 * ```ts
 * import { WALLET_OPERATIONS, type WalletJson } from '@aitbc/wallet/daemon';
 * const result: WalletJson = await WALLET_OPERATIONS.get('wallet.list')!.run(vault, {}); // { items: [...] }
 * ```
 */
export type WalletJson = string | number | boolean | null | WalletJson[] | { [key: string]: WalletJson };

/**
 * Parameters of an operation: a JSON object (REST body plus path parameters, or JSON-RPC params).
 *
 * @example
 * ```ts
 * import { WALLET_OPERATIONS, type WalletParams } from '@aitbc/wallet/daemon';
 * const params: WalletParams = { id: walletId, passphrase, ttlSeconds: 60 };
 * const grant = await WALLET_OPERATIONS.get('wallet.unlock')!.run(vault, params); // { session, expiresAt }
 * ```
 */
export type WalletParams = Readonly<Record<string, unknown>>;

/**
 * One wallet daemon operation, shared by the REST routes and the JSON-RPC methods.
 *
 * @example
 * ```ts
 * import { WALLET_OPERATIONS, type WalletOperation } from '@aitbc/wallet/daemon';
 * const op: WalletOperation | undefined = WALLET_OPERATIONS.get('wallet.sign');
 * const sig = await op?.run(vault, { id: walletId, session, kind: 'login', message: { nonce } });
 * ```
 */
export interface WalletOperation {
  /** JSON-RPC method name (`wallet.unlock`…). */
  readonly method: string;
  /** Short description. */
  readonly summary: string;
  /** Validates `params` and runs the operation. */
  run(vault: WalletVault, params: WalletParams): Promise<WalletJson>;
}

/** Wallet results are plain JSON data; their interfaces are readonly, hence the cast. */
const wire = (value: object): WalletJson => value as unknown as WalletJson;

const badParam = (param: string, message: string) =>
  new AitbcError('WALLET_BAD_PARAMS', message, { details: { param } });

function get(params: WalletParams, name: string): unknown {
  return Object.hasOwn(params, name) ? params[name] : undefined;
}

function str(params: WalletParams, name: string, max: number, optional: true): string | undefined;
function str(params: WalletParams, name: string, max: number, optional?: false): string;
function str(params: WalletParams, name: string, max: number, optional = false): string | undefined {
  const v = get(params, name);
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw badParam(name, `${name} must be a non-empty string of at most ${max} characters`);
  return v;
}

/** A passphrase: checked for shape only; the message never contains it. */
const passphrase = (p: WalletParams, name = 'passphrase') => str(p, name, 1024);

const walletId = (p: WalletParams) => {
  const v = get(p, 'id');
  if (typeof v !== 'string' || !/^[0-9a-f]{32}$/.test(v))
    throw badParam('id', 'id must be a wallet id (32 hex digits)');
  return v;
};

function int(p: WalletParams, name: string, min: number, max: number): number | undefined {
  const v = get(p, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw badParam(name, `${name} must be an integer in [${min}, ${max}]`);
  return v;
}

function amount(p: WalletParams, name: string, optional = false): bigint | undefined {
  const v = get(p, name);
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(v))
    throw badParam(name, `${name} must be a decimal string of base units`);
  return BigInt(v);
}

function address(p: WalletParams, name: string): string {
  const v = get(p, name);
  if (typeof v !== 'string' || v.length > 128 || !isAddress(v))
    throw badParam(name, `${name} must be a valid ait1… address`);
  return v;
}

function jobId(p: WalletParams): string {
  const v = get(p, 'jobId');
  if (typeof v !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(v))
    throw badParam('jobId', 'jobId must be 1-128 characters of [A-Za-z0-9._:-]');
  return v;
}

function bool(p: WalletParams, name: string): boolean | undefined {
  const v = get(p, name);
  if (v === undefined || typeof v === 'boolean') return v;
  throw badParam(name, `${name} must be a boolean`);
}

function publicKeys(p: WalletParams, name: string, optional: boolean): Uint8Array[] | undefined {
  const v = get(p, name);
  if (v === undefined && optional) return undefined;
  if (!Array.isArray(v) || v.length > 64) throw badParam(name, `${name} must be an array of at most 64 public keys`);
  return v.map((k) => {
    try {
      if (typeof k === 'string' && /^(0x)?[0-9a-fA-F]{64}$/.test(k))
        return hexToBytes(k.replace(/^0x/, '').toLowerCase(), 32);
      if (typeof k === 'string') return base64urlToBytes(k, 32);
    } catch {
      // fall through
    }
    throw badParam(name, `${name} entries are 32-byte Ed25519 keys in hex or base64url`);
  });
}

function sendBody(p: WalletParams): SendBody {
  const type = (get(p, 'type') ?? 'transfer') as SendBody['type'];
  switch (type) {
    case 'transfer':
      return { type, to: address(p, 'to'), amount: amount(p, 'amount') as bigint };
    case 'escrow.lock': {
      const expiresAtHeight = int(p, 'expiresAtHeight', 1, Number.MAX_SAFE_INTEGER);
      if (expiresAtHeight === undefined) throw badParam('expiresAtHeight', 'expiresAtHeight is required');
      return {
        type,
        jobId: jobId(p),
        amount: amount(p, 'amount') as bigint,
        coordinator: address(p, 'coordinator'),
        expiresAtHeight,
      };
    }
    case 'escrow.refund':
      return { type, jobId: jobId(p) };
    default:
      throw badParam('type', 'type must be transfer, escrow.lock or escrow.refund');
  }
}

/**
 * Largest accepted message to sign, in characters of its JSON.
 *
 * @example
 * ```ts
 * import { MAX_SIGN_MESSAGE_CHARS } from '@aitbc/wallet/daemon';
 * if (JSON.stringify(message).length > MAX_SIGN_MESSAGE_CHARS) throw new Error('message too large to sign');
 * ```
 */
export const MAX_SIGN_MESSAGE_CHARS = 16 * 1024;

async function verify(p: WalletParams): Promise<ReceiptVerification> {
  const raw = get(p, 'receipt');
  let receipt: unknown = raw;
  if (typeof raw === 'string') {
    try {
      receipt = parseReceiptJson(raw); // keeps number lexemes, so receipts signed elsewhere verify
    } catch (cause) {
      throw new AitbcError('WALLET_BAD_PARAMS', 'receipt text is not valid receipt JSON', {
        cause,
        details: { param: 'receipt' },
      });
    }
  } else if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw badParam('receipt', 'receipt must be a receipt object or its JSON text');
  }
  const minerKeys = publicKeys(p, 'minerKeys', false) as Uint8Array[];
  const coordinatorKeys = publicKeys(p, 'coordinatorKeys', true);
  const requireAttestation = bool(p, 'requireAttestation');
  return verifyReceiptAsync(receipt, {
    minerKeys,
    ...(coordinatorKeys !== undefined ? { coordinatorKeys } : {}),
    ...(requireAttestation !== undefined ? { requireAttestation } : {}),
  });
}

/**
 * The wallet daemon's operations by JSON-RPC method name. The REST routes call the same entries, so
 * both surfaces validate identically and return identical bodies.
 *
 * @example
 * ```ts
 * import { WALLET_OPERATIONS } from '@aitbc/wallet/daemon';
 * for (const [method, op] of WALLET_OPERATIONS) console.log(method, '—', op.summary);
 * const wallets = await WALLET_OPERATIONS.get('wallet.list')!.run(vault, {});
 * ```
 */
export const WALLET_OPERATIONS: ReadonlyMap<string, WalletOperation> = new Map(
  (
    [
      {
        method: 'wallet.create',
        summary: 'Create a wallet (fresh mnemonic), or import one from a mnemonic or a keystore file',
        async run(vault, p) {
          const pass = passphrase(p);
          const keystore = get(p, 'keystore');
          const mnemonic = get(p, 'mnemonic');
          if (keystore !== undefined && mnemonic !== undefined)
            throw badParam('keystore', 'give a mnemonic or a keystore, not both');
          if (keystore !== undefined) {
            if (typeof keystore !== 'object' && typeof keystore !== 'string')
              throw badParam('keystore', 'keystore must be the keystore JSON');
            return wire({ wallet: await vault.importKeystore(pass, keystore) });
          }
          if (mnemonic !== undefined) {
            const bip39Passphrase = get(p, 'bip39Passphrase');
            if (bip39Passphrase !== undefined && typeof bip39Passphrase !== 'string')
              throw badParam('bip39Passphrase', 'bip39Passphrase must be a string');
            const account = int(p, 'account', 0, 0x7fff_ffff);
            const wallet = await vault.importMnemonic(pass, typeof mnemonic === 'string' ? mnemonic : '', {
              ...(bip39Passphrase !== undefined ? { bip39Passphrase } : {}),
              ...(account !== undefined ? { account } : {}),
            });
            return wire({ wallet });
          }
          const words = get(p, 'words') ?? 24;
          if (words !== 12 && words !== 24) throw badParam('words', 'words must be 12 or 24');
          const { wallet, mnemonic: fresh } = await vault.create(pass, words);
          return wire({ wallet, mnemonic: fresh });
        },
      },
      {
        method: 'wallet.list',
        summary: 'Stored wallets',
        run: async (vault) => wire({ items: vault.list() }),
      },
      {
        method: 'wallet.get',
        summary: 'One wallet with its balance and nonce from the node',
        run: async (vault, p) => wire(await vault.get(walletId(p))),
      },
      {
        method: 'wallet.unlock',
        summary: 'Unlock a wallet: a session token that expires',
        async run(vault, p) {
          const id = walletId(p);
          const pass = passphrase(p);
          const ttl = int(p, 'ttlSeconds', 1, 86_400);
          return wire(await vault.unlock(id, pass, ttl === undefined ? undefined : ttl * 1000));
        },
      },
      {
        method: 'wallet.lock',
        summary: 'Close every session of a wallet (keys zeroed)',
        run: async (vault, p) => wire(vault.lock(walletId(p))),
      },
      {
        method: 'wallet.sign',
        summary: 'Sign a domain-separated message (kinds message, login)',
        async run(vault, p) {
          const id = walletId(p);
          const message = get(p, 'message');
          if (message === undefined) throw badParam('message', 'message is required (any JSON value)');
          if (JSON.stringify(message).length > MAX_SIGN_MESSAGE_CHARS)
            throw badParam('message', `message must be at most ${MAX_SIGN_MESSAGE_CHARS} characters of JSON`);
          const kind = str(p, 'kind', 32, true) ?? 'message';
          const chainId = str(p, 'chainId', 64, true);
          return wire(vault.sign(id, get(p, 'session'), kind, chainId, message as CanonicalValue));
        },
      },
      {
        method: 'wallet.send',
        summary: 'Build, sign and submit a transfer, escrow.lock or escrow.refund with the next nonce',
        async run(vault, p) {
          const id = walletId(p);
          const body = sendBody(p);
          const fee = amount(p, 'fee', true);
          const wait = bool(p, 'wait');
          const timeout = int(p, 'timeoutSeconds', 1, 300);
          const idempotencyKey = get(p, 'idempotencyKey');
          if (
            idempotencyKey !== undefined &&
            (typeof idempotencyKey !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(idempotencyKey))
          )
            throw badParam('idempotencyKey', 'idempotencyKey must be 1-128 printable ASCII characters');
          const result = await vault.send(id, get(p, 'session'), body, {
            ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
            ...(fee !== undefined ? { fee } : {}),
            ...(wait !== undefined ? { wait } : {}),
            ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
          });
          return wire(result);
        },
      },
      {
        method: 'receipts.verify',
        summary: 'Verify a receipt against pinned miner and coordinator keys',
        run: async (_vault, p) => wire(await verify(p)),
      },
    ] satisfies WalletOperation[]
  ).map((op) => [op.method, op]),
);
