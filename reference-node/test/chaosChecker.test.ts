/** The chaos campaign's checker and table on made-up data (the campaign itself: chaos/chaos.e2e.ts). */

import type { Genesis } from '@aitbc/chain-core';
import { AitbcError } from '@aitbc/crypto';
import type { NodeClient } from '@aitbc/rpc/client';
import { describe, expect, it } from 'vitest';
import type { CampaignReport } from '../chaos/campaign.ts';
import { formatCampaign } from '../chaos/campaignTable.ts';
import { checkSupply, missingTxs, summarizeChain } from '../chaos/chainChecker.ts';
import type { AcceptedTx } from '../chaos/loadGenerator.ts';

const tx = (from: string, nonce: number, node = 0): AcceptedTx => ({
  id: `0x${from}${nonce}`,
  from,
  nonce,
  node,
  at: 0,
  via: 'answer',
});

describe('missingTxs', () => {
  it('calls the first missing nonce of a sender lost and the later ones stranded behind it', () => {
    const accepted = [tx('a', 0), tx('a', 1, 3), tx('a', 2), tx('a', 3), tx('b', 0), tx('b', 1)];
    const included = new Set(['0xa0', '0xb0', '0xb1']);
    const missing = missingTxs(accepted, included);
    expect(missing.map((m) => [m.tx.id, m.kind, m.behind])).toEqual([
      ['0xa1', 'lost', undefined],
      ['0xa2', 'stranded', 1],
      ['0xa3', 'stranded', 1],
    ]);
  });

  it('finds nothing missing when every accepted tx is on chain (ids compared case-insensitively)', () => {
    expect(missingTxs([tx('A', 0)], new Set(['0xa0']))).toEqual([]);
  });
});

/** A node API serving `blocks` (height h at index h - 1) and `balances`: what the checker reads. */
function servedNode(blocks: ReadonlyArray<{ hash: string; txs: object[] }>, balances: Record<string, bigint>) {
  return {
    head: async () => ({ height: blocks.length, hash: blocks.at(-1)?.hash ?? '' }),
    rpcBatch: async (calls: ReadonlyArray<{ method: string; params?: Record<string, unknown> }>) =>
      calls.map((c) => {
        if (c.method === 'get_block') return { height: c.params?.id, ...blocks[(c.params?.id as number) - 1] };
        const balance = balances[c.params?.address as string];
        return balance === undefined
          ? new AitbcError('RPC_NOT_FOUND', 'account not found')
          : { address: c.params?.address, balance: String(balance) };
      }),
  } as unknown as NodeClient;
}

const transfer = (id: string, from: string, to: string, fee: bigint) => ({
  id,
  type: 'transfer',
  from,
  to,
  nonce: 0,
  fee: String(fee),
});
const genesis = { allocations: [{ address: 'ait1a', amount: 1000n }] } as unknown as Genesis;

describe('summarizeChain and checkSupply', () => {
  const blocks = [
    { hash: 'h1', txs: [transfer('0xT1', 'ait1a', 'ait1b', 10n)] },
    { hash: 'h2', txs: [] },
  ];

  it('passes one history whose balances plus burned fees equal the genesis supply', async () => {
    const nodes = [0, 1].map(() => servedNode(blocks, { ait1a: 890n, ait1b: 100n }));
    const summary = await summarizeChain(nodes);
    expect(summary).toMatchObject({ height: 2, mismatchCount: 0, burned: 10n, otherTxs: 0 });
    expect([...summary.included]).toEqual(['0xt1']);
    expect(await checkSupply(nodes, genesis, summary)).toMatchObject({ ok: true, balances: [990n, 990n] });
  });

  it('reports a height whose hash differs between nodes, and value created or lost', async () => {
    const forked = [blocks[0] as (typeof blocks)[number], { hash: 'other', txs: [] }];
    const nodes = [servedNode(blocks, { ait1a: 890n, ait1b: 100n }), servedNode(forked, { ait1a: 890n, ait1b: 101n })];
    const summary = await summarizeChain(nodes);
    expect(summary.mismatchCount).toBe(1);
    expect(summary.mismatches).toEqual([{ height: 2, hashes: ['h2', 'other'] }]);
    const supply = await checkSupply(nodes, genesis, summary);
    expect(supply.ok).toBe(false);
    expect(supply.note).toContain('990 / 991');
  });

  it('does not claim to check the supply of a chain with escrow transactions', async () => {
    const withEscrow = [{ hash: 'h1', txs: [{ id: '0xe', type: 'escrow.lock', from: 'ait1a', nonce: 0, fee: '10' }] }];
    const nodes = [servedNode(withEscrow, { ait1a: 890n })];
    const supply = await checkSupply(nodes, genesis, await summarizeChain(nodes));
    expect(supply.ok).toBe(false);
    expect(supply.note).toMatch(/not checkable/);
  });
});

describe('formatCampaign', () => {
  it('prints a row per scenario, the failed checks by name, and a not-run scenario as such', () => {
    const report: CampaignReport = {
      placement: 'loopback',
      scenarios: [
        {
          name: 'kill-one',
          fault: 'SIGKILL node-3',
          recoveryMs: 1200,
          catchUpMs: 3400,
          accepted: 100,
          included: 90,
          lost: 2,
          stranded: 8,
          refused: { NETWORK: 5 },
          checks: [
            { name: 'finality resumed', ok: true, detail: '1.2 s' },
            { name: 'no accepted tx lost', ok: false, detail: '2 lost' },
          ],
          passed: false,
        },
        {
          name: 'partition',
          fault: '2|2',
          notRun: 'not run: needs root',
          accepted: 0,
          included: 0,
          lost: 0,
          stranded: 0,
          refused: {},
          checks: [],
          passed: false,
        },
      ],
      checks: [{ name: 'identical history', ok: true, detail: 'heights 1..9' }],
      notes: [],
      passed: false,
      height: 9,
      durationMs: 60_000,
    };
    const text = formatCampaign(report);
    expect(text).toMatch(
      /\| kill-one +\| SIGKILL node-3 \| 1\.2 s +\| 3\.4 s +\| 100 \/ 90 \/ 2 \(\+8 stranded\) +\| FAIL: no accepted tx lost \|/,
    );
    expect(text).toMatch(/\| partition +\| 2\\\|2 +\| .*\| not run: needs root/);
    expect(text).toContain('FAIL kill-one: no accepted tx lost — 2 lost');
    expect(text).toContain('refused submissions (retried): NETWORK 5');
    expect(text.trim().split('\n').at(-1)).toMatch(/^FAILED: 1 scenarios .*; partition not run: needs root$/);
  });
});
