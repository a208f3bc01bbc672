import { formatAmount } from '../amount.js';
import type { CommandSpec } from '../commandSpec.js';
import { renderKeyValues, renderTable } from '../output.js';
import { sdkClient } from '../sdkClient.js';
import { arg, formatTime, intOption, shortId } from './commandHelpers.js';

/** `aitbc miner …`: run a miner, look at miners and their earnings. */
export const MINER_COMMANDS: readonly CommandSpec[] = [
  {
    group: 'miner',
    name: 'start',
    summary: 'run the miner agent: register, heartbeat, take jobs, get paid',
    args: [],
    options: [
      {
        name: 'miner-id',
        type: 'string',
        valueName: '<id>',
        required: true,
        description: 'this miner’s id (the API key must be bound to it)',
      },
      {
        name: 'key-file',
        type: 'string',
        valueName: '<file>',
        complete: 'file',
        description: 'file holding the miner’s 32-byte seed (hex); receipts are signed with it',
      },
      {
        name: 'kinds',
        type: 'string',
        valueName: '<list>',
        description: 'job kinds to run, comma-separated (default: every built-in runner)',
      },
      { name: 'price', type: 'string', valueName: '<amount>', description: 'price per unit (1.5, 1.5AIT or …base)' },
      { name: 'concurrency', type: 'string', valueName: '<n>', description: 'jobs run at once (default 1)' },
    ],
    examples: [
      {
        command: 'aitbc miner start --miner-id gpu-1 --key-file ~/.aitbc/miner.key --price 0.001',
        description: 'mine until Ctrl-C',
      },
    ],
    status: 'waiting',
    waitingFor: '`createMinerAgent` from `@aitbc/sdk/miner`',
    async handler() {},
  },
  {
    group: 'miner',
    name: 'status',
    summary: 'show a miner as the pool hub sees it: online, load, stats, trust',
    args: [{ name: 'miner-id', description: 'the miner id' }],
    options: [],
    examples: [
      {
        command: 'aitbc miner status gpu-1 --pool-key $POOL_ADMIN_KEY',
        description: 'is my miner online and healthy?',
      },
    ],
    status: 'wired',
    async handler(ctx) {
      const m = await sdkClient(ctx).pool.miner(arg(ctx, 'miner-id'), { signal: ctx.signal });
      ctx.out.result(m, (x) =>
        renderKeyValues({
          miner: x.miner_id,
          address: x.address,
          online: x.status.online,
          lastHeartbeat: formatTime(x.status.last_heartbeat_at),
          activeJobs: x.status.active_jobs,
          queue: x.status.queue_length,
          completed: x.stats.completed,
          failed: x.stats.failed,
          trust: x.trust,
          pricePerUnit: formatAmount(BigInt(x.price_per_unit)),
          kinds: x.capabilities.job_kinds.join(','),
        }),
      );
    },
  },
  {
    group: 'miner',
    name: 'earnings',
    summary: 'sum what an address earned from settled jobs (on chain)',
    args: [{ name: 'address', description: 'the miner’s ait1… payout address' }],
    options: [
      {
        name: 'limit',
        type: 'string',
        valueName: '<n>',
        description: 'look at the newest n transactions (default 1000)',
      },
    ],
    examples: [{ command: 'aitbc miner earnings ait1qxy…', description: 'total paid and the jobs it came from' }],
    status: 'wired',
    async handler(ctx) {
      const address = arg(ctx, 'address');
      const node = sdkClient(ctx).node;
      const limit = intOption(ctx, 'limit', 1, 100_000) ?? 1000;
      const jobs: { job_id: string; paid: string; height: number | undefined; tx: string }[] = [];
      for await (const tx of node.txsByAddress(address, { signal: ctx.signal, maxItems: limit })) {
        if (tx.type !== 'escrow.settle' || tx.status === 'pending') continue;
        const jobId = (tx as { jobId?: unknown }).jobId;
        if (typeof jobId !== 'string') continue;
        const escrow = await node.escrow(jobId, { signal: ctx.signal });
        if (escrow.provider !== address || escrow.paid === null) continue;
        jobs.push({ job_id: jobId, paid: escrow.paid, height: tx.height, tx: tx.id });
      }
      const total = jobs.reduce((s, j) => s + BigInt(j.paid), 0n);
      ctx.out.result(
        { address, total: total.toString(), total_ait: formatAmount(total, { unit: false }), jobs },
        (e) => {
          const head = renderKeyValues({ address: e.address, earned: formatAmount(total), jobs: e.jobs.length });
          return e.jobs.length === 0
            ? head
            : `${head}\n\n${renderTable(e.jobs, [
                { header: 'JOB', value: (j) => j.job_id },
                { header: 'PAID', value: (j) => formatAmount(BigInt(j.paid)) },
                { header: 'HEIGHT', value: (j) => String(j.height ?? '-') },
                { header: 'TX', value: (j) => shortId(j.tx) },
              ])}`;
        },
      );
    },
  },
];
