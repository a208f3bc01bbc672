import type { JsonObject } from '../nodeBackend.js';

/**
 * Gossip kinds carried by the peer network.
 *
 * @example
 * ```ts
 * import type { GossipKind } from '@aitbc/rpc';
 * const kind: GossipKind = 'tx';
 * const frame = JSON.stringify({ t: 'gossip', to: [myNodeId], kind, body: txJson });
 * ```
 */
export type GossipKind = 'tx' | 'proposal' | 'vote' | 'block';

/**
 * Messages of the peer protocol (JSON text frames).
 *
 * @example
 * ```ts
 * import { type PeerMessage, parsePeerMessage } from '@aitbc/rpc';
 * const msg: PeerMessage | undefined = parsePeerMessage(frame);
 * if (msg?.t === 'status') console.log(`peer at height ${msg.height}`);
 * ```
 */
export type PeerMessage =
  | { t: 'hello'; chainId: string; genesisHash: string; nodeKey: string; nonce: string; height: number }
  | { t: 'auth'; signature: string }
  | { t: 'reject'; code: string }
  | { t: 'status'; height: number; hash: string }
  | {
      t: 'gossip';
      /**
       * Node ids (hex public keys) that have the message: the frame's sender and every peer it sent this
       * frame to; receivers do not relay it to them. At most 64 ids; absent in frames of older peers.
       */
      to?: string[];
      kind: GossipKind;
      body: JsonObject;
    }
  | { t: 'sync_req'; reqId: number; from: number; to: number }
  | { t: 'sync_res'; reqId: number; blocks: JsonObject[] }
  | { t: 'sync_err'; reqId: number; code: string }
  | TxExchangeMessage;

/**
 * The pending-transaction exchange (as Ethereum's `NewPooledTransactionHashes` /
 * `GetPooledTransactions`): `tx_announce` lists ids (64 lowercase hex, without `0x`) of transactions the
 * sender holds pending; the receiver asks for those it lacks with `tx_request`, answered by `tx_bodies`
 * (wire transactions, at most as many as requested, possibly fewer).
 *
 * @example
 * ```ts
 * import type { TxExchangeMessage } from '@aitbc/rpc';
 * const announce: TxExchangeMessage = { t: 'tx_announce', ids: ['ab'.repeat(32)] };
 * const request: TxExchangeMessage = { t: 'tx_request', reqId: 1, ids: ['ab'.repeat(32)] };
 * ```
 */
export type TxExchangeMessage =
  | { t: 'tx_announce'; ids: string[] }
  | { t: 'tx_request'; reqId: number; ids: string[] }
  | { t: 'tx_bodies'; reqId: number; txs: JsonObject[] };

/**
 * Most transaction ids one `tx_announce` frame carries (a longer list makes the frame malformed).
 *
 * @example
 * ```ts
 * import { MAX_TX_ANNOUNCE_IDS } from '@aitbc/rpc';
 * for (let i = 0; i < ids.length; i += MAX_TX_ANNOUNCE_IDS) send({ t: 'tx_announce', ids: ids.slice(i, i + MAX_TX_ANNOUNCE_IDS) });
 * ```
 */
export const MAX_TX_ANNOUNCE_IDS = 4096;

/**
 * Most transaction ids one `tx_request` asks for, and most bodies one `tx_bodies` carries.
 *
 * @example
 * ```ts
 * import { MAX_TX_REQUEST_IDS } from '@aitbc/rpc';
 * const request = { t: 'tx_request', reqId: 1, ids: missing.slice(0, MAX_TX_REQUEST_IDS) };
 * ```
 */
export const MAX_TX_REQUEST_IDS = 256;

/** Most node ids a gossip frame's `to` list may carry (a longer list makes the frame malformed). */
export const MAX_GOSSIP_TO = 64;

const HEX32 = /^[0-9a-f]{64}$/;
const HEX64 = /^[0-9a-f]{128}$/;
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const CHAIN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KINDS: ReadonlySet<string> = new Set(['tx', 'proposal', 'vote', 'block']);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function exactKeys(o: Record<string, unknown>, keys: readonly string[], optional: readonly string[] = []): boolean {
  const own = Object.keys(o);
  const extra = optional.filter((k) => Object.hasOwn(o, k)).length;
  return own.length === keys.length + extra && keys.every((k) => Object.hasOwn(o, k));
}

const isTxIdList = (v: unknown, max: number): v is string[] =>
  Array.isArray(v) && v.length > 0 && v.length <= max && v.every((id) => typeof id === 'string' && HEX32.test(id));

const isNodeIdList = (v: unknown): boolean =>
  Array.isArray(v) && v.length <= MAX_GOSSIP_TO && v.every((id) => typeof id === 'string' && HEX32.test(id));

/**
 * Parses and strictly validates one peer message: exact key sets, types, formats (lowercase hex),
 * non-negative safe integers. Returns `undefined` for anything else (the caller scores the peer down).
 *
 * @example
 * ```ts
 * import { parsePeerMessage } from '@aitbc/rpc';
 * parsePeerMessage('{"t":"status","height":5,"hash":"' + 'ab'.repeat(32) + '"}'); // { t: 'status', height: 5, hash: 'abab…' }
 * parsePeerMessage('{"t":"status","height":-1}'); // undefined: the peer gets scored down
 * ```
 */
export function parsePeerMessage(text: string): PeerMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(v)) return undefined;
  switch (v.t) {
    case 'hello':
      return exactKeys(v, ['t', 'chainId', 'genesisHash', 'nodeKey', 'nonce', 'height']) &&
        typeof v.chainId === 'string' &&
        CHAIN.test(v.chainId) &&
        typeof v.genesisHash === 'string' &&
        HEX32.test(v.genesisHash) &&
        typeof v.nodeKey === 'string' &&
        HEX32.test(v.nodeKey) &&
        typeof v.nonce === 'string' &&
        HEX32.test(v.nonce) &&
        isCount(v.height)
        ? (v as PeerMessage)
        : undefined;
    case 'auth':
      return exactKeys(v, ['t', 'signature']) && typeof v.signature === 'string' && HEX64.test(v.signature)
        ? (v as PeerMessage)
        : undefined;
    case 'reject':
      return exactKeys(v, ['t', 'code']) && typeof v.code === 'string' && CODE.test(v.code)
        ? (v as PeerMessage)
        : undefined;
    case 'status':
      return exactKeys(v, ['t', 'height', 'hash']) &&
        isCount(v.height) &&
        typeof v.hash === 'string' &&
        HEX32.test(v.hash)
        ? (v as PeerMessage)
        : undefined;
    case 'gossip':
      return exactKeys(v, ['t', 'kind', 'body'], ['to']) &&
        typeof v.kind === 'string' &&
        KINDS.has(v.kind) &&
        isObj(v.body) &&
        (v.to === undefined || isNodeIdList(v.to))
        ? (v as PeerMessage)
        : undefined;
    case 'sync_req':
      return exactKeys(v, ['t', 'reqId', 'from', 'to']) && isCount(v.reqId) && isCount(v.from) && isCount(v.to)
        ? (v as PeerMessage)
        : undefined;
    case 'sync_res':
      return exactKeys(v, ['t', 'reqId', 'blocks']) &&
        isCount(v.reqId) &&
        Array.isArray(v.blocks) &&
        v.blocks.every(isObj)
        ? (v as PeerMessage)
        : undefined;
    case 'sync_err':
      return exactKeys(v, ['t', 'reqId', 'code']) && isCount(v.reqId) && typeof v.code === 'string' && CODE.test(v.code)
        ? (v as PeerMessage)
        : undefined;
    case 'tx_announce':
      return exactKeys(v, ['t', 'ids']) && isTxIdList(v.ids, MAX_TX_ANNOUNCE_IDS) ? (v as PeerMessage) : undefined;
    case 'tx_request':
      return exactKeys(v, ['t', 'reqId', 'ids']) && isCount(v.reqId) && isTxIdList(v.ids, MAX_TX_REQUEST_IDS)
        ? (v as PeerMessage)
        : undefined;
    case 'tx_bodies':
      return exactKeys(v, ['t', 'reqId', 'txs']) &&
        isCount(v.reqId) &&
        Array.isArray(v.txs) &&
        v.txs.length <= MAX_TX_REQUEST_IDS &&
        v.txs.every(isObj)
        ? (v as PeerMessage)
        : undefined;
    default:
      return undefined;
  }
}
