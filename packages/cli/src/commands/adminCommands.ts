import { formatAmount } from '../amount.js';
import type { CommandSpec } from '../commandSpec.js';
import { renderKeyValues } from '../output.js';
import { sdkClient } from '../sdkClient.js';
import { flag, formatTime } from './commandHelpers.js';

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
    examples: [{ command: 'aitbc admin jobs --state QUEUED', description: 'the backlog' }],
    status: 'waiting',
    waitingFor:
      'the coordinator route `GET /v1/admin/jobs?state=…` (role admin, every client’s jobs; the coordinator serves only `GET /v1/jobs`, the caller’s own jobs) and an SDK call over it',
    async handler() {},
  },
];
