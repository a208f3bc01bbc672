/**
 * The CI subset of the chaos campaign (campaign.ts): 4 validator processes under 300 tx/s, then
 * kill one, hang one, a 2|2 partition (when this process may create network namespaces: root) and a
 * hostile peer, each scenario's checks and the chain's (identical history, supply) asserted.
 * `npm run chaos` runs the whole campaign and prints the table.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { abortCampaigns, type CampaignReport, runCampaign } from './campaign.ts';
import { formatCampaign } from './campaignTable.ts';
import { netnsUnavailable } from './netns.ts';
import type { ScenarioName } from './scenarios.ts';

const failed = (report: CampaignReport) => [
  ...report.scenarios.flatMap((s) => s.checks.filter((c) => !c.ok).map((c) => `${s.name}: ${c.name} — ${c.detail}`)),
  ...report.checks.filter((c) => !c.ok).map((c) => `chain: ${c.name} — ${c.detail}`),
];

// A test that times out leaves its campaign running: kill its processes, remove its namespaces.
afterAll(abortCampaigns, 60_000);

describe('chaos campaign, CI subset', () => {
  it('kill one, hang one, partition 2|2 (root), hostile peer: every check holds', async () => {
    const netnsProblem = await netnsUnavailable();
    const scenarios: ScenarioName[] = [
      'kill-one',
      'hang-one',
      ...(netnsProblem === undefined ? (['partition'] as const) : []),
      'hostile-peer',
    ];
    if (netnsProblem !== undefined) console.warn(`chaos: partition not run here (${netnsProblem})`);
    const report = await runCampaign({ scenarios, holdMs: 5_000 });
    console.log(formatCampaign(report));
    expect(report.scenarios.map((s) => s.name)).toEqual(scenarios);
    for (const s of report.scenarios) {
      expect(s.notRun).toBeUndefined();
      expect(s.accepted).toBeGreaterThan(0);
    }
    expect(failed(report)).toEqual([]);
    expect(report.passed).toBe(true);
  });
});
