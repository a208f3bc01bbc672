/**
 * `npm run chaos [-- options]`: the fault campaign on this machine (see campaign.ts); prints the
 * table and exits 1 when a check failed, 2 on a usage error, 130 on Ctrl-C (after cleaning up).
 *
 *   --scenarios kill-one,hang-one,…   a subset, in the given order (default: all)
 *   --rate 300                        offered transfers per second
 *   --bound 10                        seconds within which finality must resume after a fault
 *   --catch-up 30                     seconds within which every node must be back at the top
 *   --hold 6                          seconds a fault is held
 *   --memory-bound 96                 MiB a node's RSS may grow under the hostile peer
 *   --deadline 900                    seconds the whole run may take (then: cleanup, exit 1)
 *   --verbose                         progress lines on stderr
 */
import { parseArgs } from 'node:util';
import { abortCampaigns, runCampaign } from './campaign.ts';
import { formatCampaign } from './campaignTable.ts';
import { SCENARIOS, type ScenarioName } from './scenarios.ts';

function usage(message: string): never {
  process.stderr.write(`${message}\nscenarios: ${SCENARIOS.join(', ')}\n`);
  process.exit(2);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      scenarios: { type: 'string' },
      rate: { type: 'string' },
      bound: { type: 'string' },
      'catch-up': { type: 'string' },
      hold: { type: 'string' },
      deadline: { type: 'string' },
      'memory-bound': { type: 'string' },
      verbose: { type: 'boolean' },
    },
  }).values;
}
try {
  args = parse();
} catch (err) {
  usage((err as Error).message);
}
const number = (name: string, v: string | undefined, fallback: number) => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) usage(`--${name} must be a positive number`);
  return n;
};
const scenarios = (args.scenarios?.split(',') ?? [...SCENARIOS]) as ScenarioName[];
for (const s of scenarios) if (!(SCENARIOS as readonly string[]).includes(s)) usage(`unknown scenario ${s}`);

let interrupted = false;
const bail = (why: string, code: number) => {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write(`\n${why}: cleaning up\n`);
  void abortCampaigns().finally(() => process.exit(code));
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => bail(signal, 130));
const deadlineS = number('deadline', args.deadline, 900);
setTimeout(() => bail(`the run took more than ${deadlineS} s`, 1), deadlineS * 1000).unref();

const started = new Date();
process.stderr.write(`chaos campaign: ${scenarios.join(', ')} (started ${started.toISOString()})\n`);
const report = await runCampaign({
  scenarios,
  rate: number('rate', args.rate, 300),
  boundMs: number('bound', args.bound, 10) * 1000,
  catchUpMs: number('catch-up', args['catch-up'], 30) * 1000,
  holdMs: number('hold', args.hold, 6) * 1000,
  memoryBoundBytes: number('memory-bound', args['memory-bound'], 96) * 1024 * 1024,
  ...(args.verbose === true ? { log: (line: string) => process.stderr.write(`[chaos] ${line}\n`) } : {}),
});
process.stdout.write(`${formatCampaign(report)}\n`);
process.exitCode = report.passed ? 0 : 1;
