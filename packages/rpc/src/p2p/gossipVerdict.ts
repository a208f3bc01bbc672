import type { JsonObject } from '../nodeBackend.js';
import type { GossipKind } from './peerMessages.js';

/**
 * What the application decided about a gossip message, in the style of libp2p gossipsub's validation
 * results: `accept` delivers it (the `gossip` event) and relays it; `ignore` drops it without relaying
 * and without penalty (a duplicate, a stale height, already known, no room to check it now); `reject`
 * drops it and scores the sender down (a bad signature, a malformed body, a vote from a non-validator).
 *
 * @example
 * ```ts
 * import type { GossipVerdict } from '@aitbc/rpc';
 * const verdict: GossipVerdict = signatureOk ? (isNew ? 'accept' : 'ignore') : 'reject';
 * ```
 */
export type GossipVerdict = 'accept' | 'ignore' | 'reject';

/**
 * Validates a gossip message before it is delivered or relayed; may answer later (a promise: the
 * message is held, neither delivered nor relayed, until it settles). `from` is the sending peer's node
 * id, `bytes` the size of the frame it came in (what holding the body costs, to within a small factor).
 * The legacy boolean form still works: `true` is `accept`, `false` is `reject`. A validator that
 * throws or rejects its promise counts as `ignore`.
 *
 * @example
 * ```ts
 * import type { GossipValidator } from '@aitbc/rpc';
 * const validateGossip: GossipValidator = (kind, body, from) =>
 *   kind === 'vote' ? checkVote(body) : mempoolAdmits(body).then((ok) => (ok ? 'accept' : 'reject'));
 * ```
 */
export type GossipValidator = (
  kind: GossipKind,
  body: JsonObject,
  from: string,
  bytes: number,
) => GossipVerdict | boolean | Promise<GossipVerdict | boolean>;

/** The verdict of a validator's answer (`true`/`false` of the legacy form; anything else is `ignore`). */
export function toVerdict(answer: unknown): GossipVerdict {
  if (answer === true || answer === 'accept') return 'accept';
  if (answer === false || answer === 'reject') return 'reject';
  return 'ignore';
}
