/**
 * The campaign's checks on the chain itself, read through each node's API after the run:
 * - identical history: every height's block hash is the same on every node (1 up to the lowest head);
 * - no accepted transaction lost: every transaction an API accepted is in a block; one that is not is
 *   `lost` when every earlier nonce of its sender is on chain, else `stranded` behind the first
 *   missing one (the load sends nonce n + 1 only after n was accepted, so that one was accepted too);
 * - supply conserved: chain-core burns each transaction's whole fee and creates nothing after genesis
 *   (executeTx, chain-core README), so the balances of every account genesis funded or a transfer
 *   touched, plus the fees burned by every included transaction, add up to the genesis allocations.
 *   Escrow transactions would move value into escrows this check does not read: a chain with any is
 *   reported as not checkable.
 */
import type { Genesis } from '@aitbc/chain-core';
import { isAitbcError } from '@aitbc/crypto';
import type { NodeClient } from '@aitbc/rpc/client';
import type { AcceptedTx } from './loadGenerator.ts';

/** A transaction as a block carries it on the wire. */
interface WireTx {
  readonly id: string;
  readonly type: string;
  readonly from: string;
  readonly to?: string;
  readonly nonce: number;
  readonly fee: string;
}

/** The chain as node 0 serves it: height → tx ids, fees burned, accounts touched. */
export interface ChainSummary {
  /** Height up to which every node was compared. */
  readonly height: number;
  /** Heights whose hash differs between nodes (with each node's hash), at most 10 listed. */
  readonly mismatches: ReadonlyArray<{ readonly height: number; readonly hashes: readonly string[] }>;
  readonly mismatchCount: number;
  /** Ids of every included transaction. */
  readonly included: ReadonlySet<string>;
  /** Fees burned by every included transaction. */
  readonly burned: bigint;
  /** Every address a transfer touched. */
  readonly touched: ReadonlySet<string>;
  /** Included transactions that are not transfers (the supply check cannot account for them). */
  readonly otherTxs: number;
}

const PAGE = 20;

async function blocksOf(client: NodeClient, from: number, to: number): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (let h = from; h <= to; h += PAGE) {
    const calls = [];
    for (let k = h; k <= Math.min(to, h + PAGE - 1); k++) calls.push({ method: 'get_block', params: { id: k } });
    const got = await client.rpcBatch(calls);
    for (const [k, b] of got.entries()) {
      if (isAitbcError(b) || b === null || typeof b !== 'object')
        throw new Error(`block ${h + k}: ${isAitbcError(b) ? b.code : 'not an object'}`);
      out.push(b as Record<string, unknown>);
    }
  }
  return out;
}

/** Reads blocks 1..(lowest head) from every node (genesis is not a block) and compares their hashes; see the module comment. */
export async function summarizeChain(clients: readonly NodeClient[]): Promise<ChainSummary> {
  const heads = await Promise.all(clients.map(async (c) => (await c.head()).height));
  const height = Math.min(...heads);
  const perNode = await Promise.all(clients.map((c) => blocksOf(c, 1, height)));
  const mismatches: Array<{ height: number; hashes: string[] }> = [];
  let mismatchCount = 0;
  for (let h = 1; h <= height; h++) {
    const hashes = perNode.map((blocks) => String(blocks[h - 1]?.hash));
    if (new Set(hashes).size !== 1) {
      mismatchCount++;
      if (mismatches.length < 10) mismatches.push({ height: h, hashes });
    }
  }
  const included = new Set<string>();
  const touched = new Set<string>();
  let burned = 0n;
  let otherTxs = 0;
  for (const block of perNode[0] ?? []) {
    for (const tx of (block.txs ?? []) as WireTx[]) {
      included.add(tx.id.toLowerCase());
      burned += BigInt(tx.fee);
      touched.add(tx.from);
      if (tx.type === 'transfer' && tx.to !== undefined) touched.add(tx.to);
      else otherTxs++;
    }
  }
  return { height, mismatches, mismatchCount, included, burned, touched, otherTxs };
}

/** An accepted transaction that is not on chain. */
export interface MissingTx {
  readonly tx: AcceptedTx;
  /** `lost`: its sender's earlier nonces are all on chain; `stranded`: behind the missing `behind`. */
  readonly kind: 'lost' | 'stranded';
  readonly behind?: number;
}

/** Accepted transactions that are not in `included`, classified; see the module comment. */
export function missingTxs(accepted: readonly AcceptedTx[], included: ReadonlySet<string>): MissingTx[] {
  const bySender = new Map<string, AcceptedTx[]>();
  for (const t of accepted) bySender.set(t.from, [...(bySender.get(t.from) ?? []), t]);
  const out: MissingTx[] = [];
  for (const txs of bySender.values()) {
    txs.sort((a, b) => a.nonce - b.nonce);
    let firstMissing: number | undefined;
    for (const t of txs) {
      if (included.has(t.id.toLowerCase())) continue;
      if (firstMissing === undefined) {
        firstMissing = t.nonce;
        out.push({ tx: t, kind: 'lost' });
      } else out.push({ tx: t, kind: 'stranded', behind: firstMissing });
    }
  }
  return out;
}

/** The supply check's figures. */
export interface SupplyCheck {
  readonly ok: boolean;
  readonly genesisSupply: bigint;
  /** Sum of the balances read, per node (all must agree). */
  readonly balances: readonly bigint[];
  readonly burned: bigint;
  readonly note: string;
}

/**
 * Sums the balances of every account genesis funded or a transfer touched on every node, and compares
 * balance + burned with the genesis supply. `summary` must be read after the last transaction was
 * included: the caller re-reads it when a later block carries transactions.
 */
export async function checkSupply(
  clients: readonly NodeClient[],
  genesis: Genesis,
  summary: ChainSummary,
): Promise<SupplyCheck> {
  const genesisSupply = genesis.allocations.reduce((s, a) => s + a.amount, 0n);
  const addresses = [...new Set([...genesis.allocations.map((a) => a.address), ...summary.touched])];
  const balances: bigint[] = [];
  for (const c of clients) {
    let sum = 0n;
    for (let i = 0; i < addresses.length; i += PAGE) {
      const got = await c.rpcBatch(
        addresses.slice(i, i + PAGE).map((address) => ({ method: 'get_balance', params: { address } })),
      );
      for (const b of got) {
        if (isAitbcError(b)) {
          if (b.code === 'RPC_NOT_FOUND') continue; // an account never funded
          throw b;
        }
        sum += BigInt((b as { balance: string }).balance);
      }
    }
    balances.push(sum);
  }
  const expected = genesisSupply - summary.burned;
  const ok = summary.otherTxs === 0 && balances.every((b) => b === expected);
  const note =
    summary.otherTxs > 0
      ? `${summary.otherTxs} non-transfer txs on chain: not checkable`
      : ok
        ? `${addresses.length} accounts: balances ${expected} + burned ${summary.burned} = genesis ${genesisSupply}`
        : `balances ${balances.join(' / ')} + burned ${summary.burned} ≠ genesis ${genesisSupply}`;
  return { ok, genesisSupply, balances, burned: summary.burned, note };
}
