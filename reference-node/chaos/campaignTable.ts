/** The campaign's report as text: one row per scenario, then every failed check and the chain checks. */
import type { CampaignReport, ScenarioResult } from './campaign.ts';

const secs = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);

function txCell(r: ScenarioResult): string {
  if (r.notRun !== undefined) return '—';
  const missing = r.lost + r.stranded;
  return `${r.accepted} / ${r.included} / ${missing === 0 ? '0' : `${r.lost} (+${r.stranded} stranded)`}`;
}

function verdict(r: ScenarioResult): string {
  if (r.notRun !== undefined) return r.notRun;
  if (r.passed) return 'pass';
  return `FAIL: ${r.checks
    .filter((c) => !c.ok)
    .map((c) => c.name)
    .join(', ')}`;
}

/** Renders `report` as a Markdown table and notes. */
export function formatCampaign(report: CampaignReport): string {
  const head = ['scenario', 'fault', 'recovery', 'catch-up', 'txs accepted / included / lost', 'verdict'];
  const rows = report.scenarios.map((r) => [
    r.name,
    r.fault.replaceAll('|', '\\|'), // a Markdown cell
    secs(r.recoveryMs),
    secs(r.catchUpMs),
    txCell(r),
    verdict(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''];
  for (const r of report.scenarios) {
    if (r.notRun !== undefined) continue;
    for (const c of r.checks) out.push(`${c.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${c.name} — ${c.detail}`);
    const refused = Object.entries(r.refused);
    if (refused.length > 0)
      out.push(`     ${r.name}: refused submissions (retried): ${refused.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  for (const c of report.checks) out.push(`${c.ok ? 'ok  ' : 'FAIL'} chain: ${c.name} — ${c.detail}`);
  for (const n of report.notes) out.push(`     ${n}`);
  const notRun = report.scenarios.filter((r) => r.notRun !== undefined);
  out.push(
    '',
    `${report.passed ? 'PASSED' : 'FAILED'}: ${report.scenarios.length - notRun.length} scenarios on 4 validators (${report.placement}), ` +
      `chain height ${report.height}, ${(report.durationMs / 1000).toFixed(0)} s` +
      notRun.map((r) => `; ${r.name} ${r.notRun}`).join(''),
  );
  return out.join('\n');
}
