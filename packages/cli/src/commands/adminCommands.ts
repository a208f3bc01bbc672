import type { CoordinatorJob, JobState } from '@aitbc/sdk';
import { formatAmount } from '../amount.js';
import type { CommandSpec } from '../commandSpec.js';
import { renderKeyValues } from '../output.js';
import { sdkClient } from '../sdkClient.js';
import { flag, formatTime, stringOption } from './commandHelpers.js';

/** `aitbc admin …`: operator views (admin API key). */
export const ADMIN_COMMANDS: readonly CommandSpec[] = [
  {
    group: 'admin',
    name: 'stats',
    summary: 'coordinator totals: queued jobs, miners, miners online',
    args: [],
    options: [],
    examples: [
      { command: 'aitbc admin stats --admin-key $AITBC_ADMIN_KEY', description: 'how busy is the coordinator' },
    ],
    status: 'wired',
    async handler(ctx) {
      const s = await (await sdkClient(ctx, 'admin')).coordinator.adminStats({ signal: ctx.signal });
      ctx.out.result(s, (x) => renderKeyValues({ queued: x.queued, miners: x.miners, online: x.miners_online }));
    },
  },
  {
    group: 'admin',
    name: 'miners',
    summary: 'every miner registered at the pool hub, with status and stats',
    args: [],
    options: [{ name: 'online', type: 'boolean', description: 'only miners that heartbeat recently' }],
    examples: [{ command: 'aitbc admin miners --online', description: 'the miners that can take jobs now' }],
    status: 'wired',
    async handler(ctx) {
      const miners = await (await sdkClient(ctx, 'admin')).pool.miners({
        signal: ctx.signal,
        ...(flag(ctx, 'online') ? { online: true } : {}),
      });
      ctx.out.table(miners, [
        { header: 'MINER', value: (m) => m.miner_id },
        { header: 'ONLINE', value: (m) => (m.status.online ? 'yes' : 'no') },
        { header: 'ACTIVE', value: (m) => `${m.status.active_jobs}/${m.max_concurrency}` },
        { header: 'DONE', value: (m) => String(m.stats.completed) },
        { header: 'FAILED', value: (m) => String(m.stats.failed) },
        { header: 'TRUST', value: (m) => String(m.trust) },
        { header: 'PRICE/UNIT', value: (m) => formatAmount(BigInt(m.price_per_unit)) },
        { header: 'LAST BEAT', value: (m) => formatTime(m.status.last_heartbeat_at) },
      ]);
    },
  },
  {
    group: 'admin',
    name: 'jobs',
    summary: 'every job at the coordinator, filtered by state',
    args: [],
    options: [
      {
        name: 'state',
        type: 'string',
        valueName: '<state>',
        choices: ['QUEUED', 'ASSIGNED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED'],
        description: 'only jobs in this state',
      },
    ],
    examples: [{ command: 'aitbc admin jobs --state QUEUED', description: 'the backlog (first 1,000 jobs by id)' }],
    status: 'wired',
    async handler(ctx) {
      const state = stringOption(ctx, 'state') as JobState | undefined;
      const jobs: CoordinatorJob[] = [];
      const api = (await sdkClient(ctx, 'admin')).coordinator;
      for await (const j of api.adminJobs({ signal: ctx.signal, maxItems: 1000, ...(state ? { state } : {}) }))
        jobs.push(j);
      ctx.out.table(jobs, [
        { header: 'JOB', value: (j) => j.job_id },
        { header: 'STATE', value: (j) => j.state },
        { header: 'KIND', value: (j) => j.kind },
        { header: 'CLIENT', value: (j) => j.client },
        { header: 'MINER', value: (j) => j.miner_id ?? '-' },
        { header: 'MAX PRICE', value: (j) => formatAmount(BigInt(j.max_price)) },
        { header: 'UPDATED', value: (j) => formatTime(j.updated_at) },
      ]);
    },
  },
];
