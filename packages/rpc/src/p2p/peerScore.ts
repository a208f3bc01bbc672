/**
 * Why a peer loses score: data that failed validation (`invalid`, the {@link PeerScoreOptions}
 * `invalidPenalty`), frames past its rate limit (`rate`, `rateLimitPenalty`), or a frame over the size
 * limit (`oversized`: banned at once, since no honest peer sends one).
 *
 * @example
 * ```ts
 * const kind: PenaltyKind = 'invalid'; // a rejected gossip message, a malformed frame, invalid blocks
 * ```
 */
export type PenaltyKind = 'invalid' | 'rate' | 'oversized';

/**
 * Peer scoring and ban settings (part of the peer network limits).
 *
 * @example
 * ```ts
 * const options: PeerScoreOptions = { invalidPenalty: 25, rateLimitPenalty: 10, banScore: -100, banMs: 600_000 };
 * const scores = createPeerScores(options);
 * ```
 */
export interface PeerScoreOptions {
  /** Score lost per invalid message (default 25). */
  readonly invalidPenalty?: number;
  /** Score lost per frame dropped by the rate limit (default 10). */
  readonly rateLimitPenalty?: number;
  /** A peer at or below this score is banned (default -100). */
  readonly banScore?: number;
  /** Ban duration in ms (default 10 min). */
  readonly banMs?: number;
  /** Clock (default `Date.now`); tests pass their own. */
  readonly now?: () => number;
}

/**
 * Scores of connected peers and the bans that outlive their connections; see {@link createPeerScores}.
 *
 * @example
 * ```ts
 * const scores: PeerScores = createPeerScores();
 * if (scores.isBanned(nodeId)) socket.close();
 * ```
 */
export interface PeerScores {
  /**
   * The score a peer has after a penalty of `kind`, and whether it must now be banned (and dropped).
   * Scores live with the connection (the caller keeps them); bans are kept here.
   */
  penalize(score: number, kind: PenaltyKind): { score: number; ban: boolean };
  /** Bans every key (node id, dialled URL) until now + `banMs`; resolves that time. */
  ban(keys: readonly string[]): number;
  /** Whether `key` is banned now (an expired ban is forgotten). */
  isBanned(key: string): boolean;
  /** When the ban of `key` ends (ms since the epoch), if it is banned. */
  bannedUntil(key: string): number | undefined;
}

/**
 * Creates the peer scoring of a peer network: every penalty lowers a peer's score; at `banScore`
 * the peer is banned for `banMs` (by node id and by the URL it was dialled at), which the handshake and
 * the redialler then honour.
 *
 * @example
 * ```ts
 * const scores = createPeerScores({ invalidPenalty: 25, banScore: -100 });
 * let score = 0;
 * for (let i = 0; i < 4; i++) ({ score } = scores.penalize(score, 'invalid')); // -100: ban: true on the 4th
 * scores.ban([nodeId]);
 * scores.isBanned(nodeId); // true for 10 minutes
 * ```
 */
export function createPeerScores(options: PeerScoreOptions = {}): PeerScores {
  const now = options.now ?? Date.now;
  const banScore = options.banScore ?? -100;
  const banMs = options.banMs ?? 600_000;
  const penalties: Record<PenaltyKind, number> = {
    invalid: options.invalidPenalty ?? 25,
    rate: options.rateLimitPenalty ?? 10,
    oversized: Number.POSITIVE_INFINITY,
  };
  const banned = new Map<string, number>(); // key → until
  const bannedUntil = (key: string): number | undefined => {
    const until = banned.get(key);
    if (until === undefined) return undefined;
    if (now() < until) return until;
    banned.delete(key);
    return undefined;
  };
  return {
    penalize(score, kind) {
      const next = score - penalties[kind];
      return { score: Math.max(next, banScore), ban: next <= banScore };
    },
    ban(keys) {
      const until = now() + banMs;
      for (const key of keys) banned.set(key, until);
      return until;
    },
    isBanned: (key) => bannedUntil(key) !== undefined,
    bannedUntil,
  };
}
