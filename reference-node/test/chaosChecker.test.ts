/** The chaos campaign's checker and table on made-up data (the campaign itself: chaos/chaos.e2e.ts). */
import { describe, expect, it } from 'vitest';
import type { CampaignReport } from '../chaos/campaign.ts';
import { formatCampaign } from '../chaos/campaignTable.ts';
import { missingTxs } from '../chaos/chainChecker.ts';
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
