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
  | { t: 'sync_err'; reqId: number; code: string };

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
    default:
      return undefined;
  }
}
