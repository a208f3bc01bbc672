/**
 * The campaign's client load: signed transfers at a steady rate from a fixed set of funded senders,
 * in small JSON-RPC batches round-robin over the nodes, recording every transaction the API accepted.
 *
 * A sender has at most one submission in flight and sends its nonces in order: nonce n + 1 is sent
 * only once the API accepted n. A refused or unanswered submission is sent again (the same signed
 * transaction, to the next node) until one node accepts it, as a careful client would; so a nonce
 * gap on chain can only come from a transaction an API accepted and then lost. Answers:
 * - a result (`added`, `known`, `replaced`): accepted;
 * - `CHAIN_BAD_NONCE` with `details.expected` above the nonce: the nonce was already used on chain,
 *   i.e. an earlier unanswered submission of this very transaction was accepted and included
 *   (recorded as accepted, `via: 'nonce-used'`, and the checker verifies it is on chain);
 * - anything else (busy, mempool limits, a node down or stopped): refused, counted by code, retried.
 * Give clients that time out (`timedClient`); a node whose request failed is skipped for a second.
 */
import { DEFAULT_PARAMS, signTx, txIdHex, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair, isAitbcError, type KeyPair } from '@aitbc/crypto';
import type { NodeClient } from '@aitbc/rpc/client';

/** A funded account of the load. */
export interface Sender extends KeyPair {
  readonly address: string;
}

/** Makes `n` fresh sender keys (to be funded at genesis). */
export function makeSenders(n: number): Sender[] {
  return Array.from({ length: n }, () => {
    const k = generateKeyPair();
    return { ...k, address: addressFromPublicKey(k.publicKey) };
  });
}

/** A transaction an API accepted. */
export interface AcceptedTx {
  readonly id: string;
  readonly from: string;
  readonly nonce: number;
  /** Index of the node that accepted it. */
  readonly node: number;
  /** ms since the epoch. */
  readonly at: number;
  /** `answer`: the API answered with its id; `nonce-used`: see the module comment. */
  readonly via: 'answer' | 'nonce-used';
}

/** What a {@link LoadGenerator} did. */
export interface LoadStats {
  /** Submissions sent (retries included). */
  readonly attempts: number;
  readonly accepted: readonly AcceptedTx[];
  /** Refusals by error code (`NETWORK` for no answer in time). */
  readonly refused: Readonly<Record<string, number>>;
  /** Per sender, the next nonce it would send (its first not yet accepted). */
  readonly nextNonce: ReadonlyMap<string, number>;
}

/** Options of {@link startLoad}. */
export interface LoadOptions {
  readonly chainId: string;
  readonly senders: readonly Sender[];
  /** One client per node (the index is the node's). */
  readonly clients: readonly NodeClient[];
  /** Submissions per second (default 300). */
  readonly rate?: number;
  /** Transfer amount (base units, default 1). */
  readonly amount?: bigint;
}

/** A running load; see {@link startLoad}. */
export interface LoadGenerator {
  /** Stops sending, waits for the submissions in flight (each bounded by its timeout); resolves the stats. */
  stop(): Promise<LoadStats>;
  /** The stats so far. */
  stats(): LoadStats;
}

const TICK_MS = 100;
const BATCH = 25;
const NODE_BACKOFF_MS = 1_000;

/** Starts the load; see the module comment. */
export function startLoad(options: LoadOptions): LoadGenerator {
  const rate = options.rate ?? 300;
  const amount = options.amount ?? 1n;
  const senders = options.senders;
  const next = new Map<string, number>(senders.map((s) => [s.address, 0]));
  const busy = new Set<string>();
  const signed = new Map<string, { id: string; json: Record<string, unknown> }>();
  const accepted: AcceptedTx[] = [];
  const refused: Record<string, number> = {};
  const skipUntil = options.clients.map(() => 0);
  let attempts = 0;
  let cursor = 0;
  let nodeCursor = 0;
  let credit = 0;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();

  const txOf = (s: Sender, nonce: number, to: string) => {
    const key = `${s.address}/${nonce}`;
    let t = signed.get(key);
    if (t === undefined) {
      const tx = signTx(
        { type: 'transfer', chainId: options.chainId, from: s.address, nonce, fee: DEFAULT_PARAMS.minFee, to, amount },
        s.seed,
      );
      t = { id: txIdHex(tx), json: txToJson(tx) as unknown as Record<string, unknown> };
      signed.set(key, t);
    }
    return t;
  };
  const refuse = (code: string, n = 1) => {
    refused[code] = (refused[code] ?? 0) + n;
  };
  const pickNode = (): number => {
    const now = Date.now();
    for (let k = 0; k < options.clients.length; k++) {
      const i = (nodeCursor + k) % options.clients.length;
      if ((skipUntil[i] as number) <= now) {
        nodeCursor = i + 1;
        return i;
      }
    }
    nodeCursor++;
    return nodeCursor % options.clients.length;
  };

  const submit = async (node: number, batch: Array<{ sender: Sender; nonce: number }>) => {
    const txs = batch.map(({ sender, nonce }) => {
      const to = (senders[(senders.indexOf(sender) + 1) % senders.length] as Sender).address;
      return txOf(sender, nonce, to);
    });
    attempts += batch.length;
    let answers: unknown[];
    try {
      answers = await (options.clients[node] as NodeClient).rpcBatch(
        txs.map((t) => ({ method: 'send_tx', params: { tx: t.json } })),
      );
    } catch (err) {
      // the whole batch refused (e.g. RPC_BUSY), or no answer in time
      refuse(isAitbcError(err) && err.cause === undefined ? err.code : 'NETWORK', batch.length);
      skipUntil[node] = Date.now() + NODE_BACKOFF_MS;
      for (const { sender } of batch) busy.delete(sender.address);
      return;
    }
    batch.forEach(({ sender, nonce }, k) => {
      const a = answers[k];
      const t = txs[k] as { id: string };
      const ok = (via: AcceptedTx['via']) => {
        accepted.push({ id: t.id, from: sender.address, nonce, node, at: Date.now(), via });
        next.set(sender.address, nonce + 1);
      };
      if (!isAitbcError(a)) ok('answer');
      else if (a.code === 'CHAIN_BAD_NONCE' && Number((a.details as { expected?: unknown }).expected) > nonce)
        ok('nonce-used');
      else refuse(a.code);
      busy.delete(sender.address);
    });
  };

  const tick = () => {
    if (stopped) return;
    credit = Math.min(credit + (rate * TICK_MS) / 1000, rate); // at most a second of backlog
    const due: Array<{ sender: Sender; nonce: number }> = [];
    for (let k = 0; k < senders.length && due.length < Math.floor(credit); k++) {
      const s = senders[(cursor + k) % senders.length] as Sender;
      if (busy.has(s.address)) continue;
      busy.add(s.address);
      due.push({ sender: s, nonce: next.get(s.address) as number });
    }
    cursor = (cursor + due.length) % senders.length;
    credit -= due.length;
    for (let b = 0; b < due.length; b += BATCH) {
      const p = submit(pickNode(), due.slice(b, b + BATCH)).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  };
  const timer = setInterval(tick, TICK_MS);
  const stats = (): LoadStats => ({
    attempts,
    accepted: [...accepted],
    refused: { ...refused },
    nextNonce: new Map(next),
  });
  return {
    stats,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return stats();
    },
  };
}
