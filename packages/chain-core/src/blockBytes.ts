import { AitbcError, bytesToHex, bytesToUtf8, utf8ToBytes } from '@aitbc/crypto';
import { type Block, blockFromJson, commitToJson, headerToJson, isFrozenBlock } from './block.js';
import { type SignedTx, type TxJson, txToJson } from './tx.js';

/**
 * The store encoding of blocks (format 1). Byte 0 is the format; JSON, the older store form, starts
 * with `{` (0x7b), so {@link blockFromStoreBytes} reads both. After it:
 *
 * - u32 length, then the UTF-8 JSON of `{header, lastCommit, signature}` (the block less its txs);
 * - u32 count of transactions, then one record each:
 *   - kind 1, a transfer: `from`, `to`, `fee` and `amount` as length-prefixed (u8) ASCII, the nonce
 *     as u64, then the public key (32 bytes) and the signature (64). The chain id is the header's.
 *   - kind 0, any other transaction (or a transfer whose fields do not fit): u32 length, then the
 *     UTF-8 of its wire JSON.
 *
 * Integers are big-endian. A transfer takes about 210 bytes instead of the ~410 of its wire JSON, and
 * the key and signature are copied, not hex-encoded.
 */
const FORMAT = 1;
const KIND_JSON = 0;
const KIND_TRANSFER = 1;

/** Encodings made by {@link blockStoreBytes}, of frozen blocks only (an unfrozen one could change). */
const encoded = new WeakMap<Block, Uint8Array>();

/** Whether `s` is at most 255 ASCII characters (an address or a decimal amount always is). */
function shortAscii(s: string): boolean {
  if (s.length > 255) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

interface TransferParts {
  readonly from: string;
  readonly to: string;
  readonly fee: string;
  readonly amount: string;
}

/** The texts of a transfer that fits the compact record, or `undefined` (then it goes as JSON). */
function transferParts(tx: SignedTx, chainId: string): TransferParts | undefined {
  const b = tx.body;
  if (b.type !== 'transfer' || b.chainId !== chainId || tx.publicKey.length !== 32 || tx.signature.length !== 64)
    return undefined;
  const parts = { from: b.from, to: b.to, fee: b.fee.toString(), amount: b.amount.toString() };
  return shortAscii(parts.from) && shortAscii(parts.to) && shortAscii(parts.fee) && shortAscii(parts.amount)
    ? parts
    : undefined;
}

/**
 * The bytes a block is stored and persisted as: the compact binary form described in this module
 * (about half the size of its JSON, and several times faster to make). A frozen block (as
 * `blockFromJson` and `Chain.buildBlock` return) is encoded once and the bytes are shared: a node
 * stores each block twice (in its consensus state, then in the chain). Do not modify the returned
 * bytes.
 *
 * @example
 * ```ts
 * import { blockFromStoreBytes, blockStoreBytes } from '@aitbc/chain-core';
 * const bytes = blockStoreBytes(block);
 * const again = blockFromStoreBytes(bytes); // the same block, its transactions checked again
 * ```
 */
export function blockStoreBytes(block: Block): Uint8Array {
  const kept = encoded.get(block);
  if (kept !== undefined) return kept;
  const chainId = block.header.chainId;
  const meta = utf8ToBytes(
    JSON.stringify({
      header: headerToJson(block.header),
      lastCommit: block.lastCommit === null ? null : commitToJson(block.lastCommit),
      signature: bytesToHex(block.signature),
    }),
  );
  const parts: (TransferParts | Uint8Array)[] = new Array(block.txs.length);
  let size = 1 + 4 + meta.length + 4;
  for (let i = 0; i < block.txs.length; i++) {
    const tx = block.txs[i]!;
    const p = transferParts(tx, chainId);
    if (p === undefined) {
      const json = utf8ToBytes(JSON.stringify(txToJson(tx)));
      parts[i] = json;
      size += 1 + 4 + json.length;
    } else {
      parts[i] = p;
      size += 1 + 4 + p.from.length + p.to.length + p.fee.length + p.amount.length + 8 + 32 + 64;
    }
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const ascii = (s: string) => {
    out[at++] = s.length;
    for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i);
  };
  out[at++] = FORMAT;
  view.setUint32(at, meta.length);
  out.set(meta, at + 4);
  at += 4 + meta.length;
  view.setUint32(at, block.txs.length);
  at += 4;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p instanceof Uint8Array) {
      out[at++] = KIND_JSON;
      view.setUint32(at, p.length);
      out.set(p, at + 4);
      at += 4 + p.length;
      continue;
    }
    const tx = block.txs[i]!;
    out[at++] = KIND_TRANSFER;
    ascii(p.from);
    ascii(p.to);
    ascii(p.fee);
    ascii(p.amount);
    view.setBigUint64(at, BigInt(tx.body.nonce));
    out.set(tx.publicKey, at + 8);
    out.set(tx.signature, at + 40);
    at += 104;
  }
  if (isFrozenBlock(block)) encoded.set(block, out);
  return out;
}

function malformed(detail: string): AitbcError {
  return new AitbcError('CHAIN_BLOCK_MALFORMED', `stored block is malformed: ${detail}`);
}

/** `raw` parsed as UTF-8 JSON, or `CHAIN_BLOCK_MALFORMED` naming `what` did not parse. */
function parseJson(raw: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(bytesToUtf8(raw));
  } catch {
    throw malformed(`${what} is not JSON`);
  }
}

/**
 * Decodes a block from its store bytes: the binary form of {@link blockStoreBytes}, or the JSON that
 * older versions stored. Every transaction is checked as `blockFromJson` checks wire ones (a
 * transaction decoded before comes from the decode cache).
 * @throws AitbcError `CHAIN_BLOCK_MALFORMED` (or a transaction's decode error) on bytes that do not decode.
 *
 * @example
 * ```ts
 * import { blockFromStoreBytes } from '@aitbc/chain-core';
 * const block = blockFromStoreBytes(await store.get(key));
 * ```
 */
export function blockFromStoreBytes(bytes: Uint8Array): Block {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw malformed('empty');
  if (bytes[0] === 0x7b) return blockFromJson(parseJson(bytes, 'it'));
  if (bytes[0] !== FORMAT) throw malformed(`unknown format ${bytes[0]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 1;
  const need = (n: number) => {
    if (at + n > bytes.length) throw malformed('truncated');
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(at);
    at += 4;
    return v;
  };
  const take = (n: number) => {
    need(n);
    const v = bytes.subarray(at, at + n);
    at += n;
    return v;
  };
  const ascii = () => {
    need(1);
    const n = bytes[at++]!;
    return String.fromCharCode(...take(n));
  };
  const meta = parseJson(take(u32()), 'its header') as Record<string, unknown>;
  if (typeof meta !== 'object' || meta === null) throw malformed('its header is not an object');
  const header = meta.header as Record<string, unknown> | undefined;
  const chainId = typeof header === 'object' && header !== null ? header.chainId : undefined;
  const count = u32();
  if (count > 100_000) throw malformed('too many transactions');
  const txs: unknown[] = new Array(count);
  for (let i = 0; i < count; i++) {
    need(1);
    const kind = bytes[at++];
    if (kind === KIND_JSON) {
      txs[i] = parseJson(take(u32()), `transaction ${i}`);
    } else if (kind === KIND_TRANSFER) {
      const from = ascii();
      const to = ascii();
      const fee = ascii();
      const amount = ascii();
      need(104);
      const nonce = view.getBigUint64(at);
      if (nonce > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`transaction ${i} has a nonce above 2^53`);
      const wire: TxJson = {
        chainId: chainId as string,
        type: 'transfer',
        from,
        nonce: Number(nonce),
        fee,
        to,
        amount,
        publicKey: bytesToHex(bytes.subarray(at + 8, at + 40)),
        signature: bytesToHex(bytes.subarray(at + 40, at + 104)),
      };
      at += 104;
      txs[i] = wire;
    } else {
      throw malformed(`transaction ${i} has unknown kind ${kind}`);
    }
  }
  if (at !== bytes.length) throw malformed('trailing bytes');
  return blockFromJson({ ...meta, txs });
}
