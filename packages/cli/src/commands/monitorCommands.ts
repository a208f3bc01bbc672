import type { CoordinatorJob, NodeBlock } from '@aitbc/sdk';
import type { CommandContext, CommandSpec } from '../commandSpec.js';
import { sdkClient } from '../sdkClient.js';
import { flag, formatTime, intOption, secondsOption, shortId, stringOption } from './commandHelpers.js';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

const countOption = {
  name: 'count',
  short: 'n',
  type: 'string',
  valueName: '<n>',
  description: 'stop after n events (default: until Ctrl-C)',
} as const;

function metricLines(text: string, filter: string | undefined): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#') && (filter === undefined || l.startsWith(filter)));
}

function parseMetric(line: string): { name: string; value: string } {
  const i = line.lastIndexOf(' ');
  return { name: line.slice(0, i), value: line.slice(i + 1) };
}

async function metricsOf(ctx: CommandContext, service: string): Promise<string> {
  const c = await sdkClient(ctx);
  if (service === 'coordinator') return c.coordinator.metrics({ signal: ctx.signal });
  if (service === 'pool') return c.pool.metrics({ signal: ctx.signal });
  return c.node.metrics({ signal: ctx.signal });
}

/** `aitbc monitor …`: live views. With `--json` each event is one JSON line (NDJSON). */
export const MONITOR_COMMANDS: readonly CommandSpec[] = [
  {
    group: 'monitor',
    name: 'blocks',
    summary: 'follow new final blocks live (WebSocket, resumes after reconnects)',
    args: [],
    options: [
      countOption,
      { name: 'from', type: 'string', valueName: '<height>', description: 'replay from this height first' },
    ],
    examples: [
      { command: 'aitbc monitor blocks', description: 'one line per block until Ctrl-C' },
      { command: 'aitbc monitor blocks --from 1 -n 10 --json', description: 'the first ten blocks as NDJSON' },
    ],
    status: 'wired',
    async handler(ctx) {
      const count = intOption(ctx, 'count', 1, Number.MAX_SAFE_INTEGER);
      const from = intOption(ctx, 'from', 0, Number.MAX_SAFE_INTEGER);
      const sub = (await sdkClient(ctx)).node.subscribeBlocks({
        signal: ctx.signal,
        ...(from !== undefined ? { fromHeight: from } : {}),
      });
      let seen = 0;
      try {
        for await (const b of sub) {
          ctx.out.event(
            b,
            (x: NodeBlock) =>
              `#${x.height}  ${shortId(x.hash, 12)}  ${formatTime(x.header.timestamp)}  ${x.txs.length} tx  proposer ${x.header.proposer}`,
          );
          if (count !== undefined && ++seen >= count) break;
        }
      } finally {
        sub.close();
      }
    },
  },
  {
    group: 'monitor',
    name: 'jobs',
    summary: 'follow your jobs’ state changes (polls the coordinator)',
    args: [],
    options: [
      countOption,
      { name: 'interval', type: 'string', valueName: '<seconds>', description: 'poll interval (default 2)' },
    ],
    examples: [{ command: 'aitbc monitor jobs', description: 'a line whenever one of your jobs changes state' }],
    status: 'wired',
    async handler(ctx) {
      const count = intOption(ctx, 'count', 1, Number.MAX_SAFE_INTEGER);
      const interval = secondsOption(ctx, 'interval', 3600) ?? 2000;
      const jobs = (await sdkClient(ctx)).coordinator.jobs;
      const last = new Map<string, string>();
      let seen = 0;
      while (!ctx.signal.aborted) {
        for await (const j of jobs.list({ signal: ctx.signal, maxItems: 500 })) {
          const before = last.get(j.job_id);
          if (before === `${j.state}/${j.updated_at}`) continue;
          last.set(j.job_id, `${j.state}/${j.updated_at}`);
          ctx.out.event(
            j,
            (x: CoordinatorJob) =>
              `${formatTime(x.updated_at)}  ${x.job_id}  ${x.state}${x.miner_id ? `  ${x.miner_id}` : ''}${x.error ? `  ${x.error}` : ''}`,
          );
          if (count !== undefined && ++seen >= count) return;
        }
        await sleep(interval, ctx.signal);
      }
    },
  },
  {
    group: 'monitor',
    name: 'metrics',
    summary: 'print a service’s Prometheus metrics (--watch to refresh)',
    args: [],
    options: [
      {
        name: 'service',
        type: 'string',
        valueName: '<service>',
        choices: ['node', 'coordinator', 'pool'],
        description: 'whose metrics (default node)',
      },
      {
        name: 'filter',
        type: 'string',
        valueName: '<prefix>',
        description: 'only metrics whose name starts with this',
      },
      {
        name: 'watch',
        type: 'string',
        valueName: '<seconds>',
        description: 'refresh every n seconds until Ctrl-C (or --count)',
      },
      countOption,
      { name: 'raw', type: 'boolean', description: 'the Prometheus text as served' },
    ],
    examples: [
      { command: 'aitbc monitor metrics --service coordinator --filter coordinator_jobs', description: 'job counters' },
      { command: 'aitbc monitor metrics --watch 5', description: 'refresh the node’s metrics every 5 s' },
    ],
    status: 'wired',
    async handler(ctx) {
      const service = stringOption(ctx, 'service') ?? 'node';
      const filter = stringOption(ctx, 'filter');
      const watch = secondsOption(ctx, 'watch', 3600);
      const count = intOption(ctx, 'count', 1, Number.MAX_SAFE_INTEGER) ?? (watch === undefined ? 1 : undefined);
      for (let n = 0; count === undefined || n < count; n++) {
        if (n > 0) await sleep(watch ?? 0, ctx.signal);
        if (ctx.signal.aborted) return;
        const text = await metricsOf(ctx, service);
        if (flag(ctx, 'raw') && !ctx.out.json) {
          ctx.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
          continue;
        }
        const metrics = metricLines(text, filter).map(parseMetric);
        const at = Date.now();
        ctx.out.event(
          { service, at, metrics },
          (e) => `# ${e.service} ${formatTime(e.at)}\n${e.metrics.map((m) => `${m.name} ${m.value}`).join('\n')}`,
        );
      }
    },
  },
];
