import { readFileSync } from 'node:fs';
import { AitbcError, hexToBytes } from '@aitbc/crypto';
import { formatAmount, parseAmount } from '../amount.js';
import type { CommandSpec } from '../commandSpec.js';
import { renderKeyValues, renderTable } from '../output.js';
import { usageError } from '../parseCommandLine.js';
import { sdkClient } from '../sdkClient.js';
import { arg, formatTime, intOption, shortId, stringOption } from './commandHelpers.js';

/** `aitbc miner …`: run a miner, look at miners and their earnings. */
export const MINER_COMMANDS: readonly CommandSpec[] = [
  {
    group: 'miner',
    name: 'start',
    summary: 'run the miner agent: register, heartbeat, take jobs, get paid',
    description:
      'Runs until Ctrl-C (then drains running jobs) or --max-jobs. The API key (--api-key / AITBC_API_KEY) must have role miner, bound to --miner-id. Receipts are signed with the seed in --key-file (64 hex digits; else $AITBC_MINER_SEED); its address is paid. One line per job event (NDJSON with --json).',
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
        description: 'file holding the miner’s 32-byte seed as hex (else $AITBC_MINER_SEED)',
      },
      {
        name: 'price',
        type: 'string',
        valueName: '<amount>',
        required: true,
        description: 'price per unit of work (1.5, 1.5AIT or …base)',
      },
      {
        name: 'kinds',
        type: 'string',
        valueName: '<list>',
        description: 'job kinds to run, comma-separated: hash, wasm (default both)',
      },
      { name: 'concurrency', type: 'string', valueName: '<n>', description: 'jobs run at once (default 1)' },
      { name: 'region', type: 'string', valueName: '<region>', description: 'region advertised to the pool hub' },
      {
        name: 'chain-id',
        type: 'string',
        valueName: '<id>',
        description: 'chain of the receipts (default: read from the node)',
      },
      {
        name: 'max-jobs',
        type: 'string',
        valueName: '<n>',
        description: 'stop after n jobs finished (completed or failed)',
      },
      {
        name: 'poll-wait',
        type: 'string',
        valueName: '<seconds>',
        description: 'long-poll wait per request (default 30)',
      },
    ],
    examples: [
      {
        command: 'aitbc miner start --miner-id gpu-1 --key-file ~/.aitbc/miner.key --price 0.001',
        description: 'mine until Ctrl-C',
      },
      {
        command: 'aitbc miner start --miner-id ci-1 --price 1000base --kinds hash --max-jobs 1 --json',
        description: 'take one job, print its events as NDJSON',
      },
    ],
    status: 'wired',
    ownsInterrupt: true,
    async handler(ctx) {
      const minerId = stringOption(ctx, 'miner-id')!;
      const keyFile = stringOption(ctx, 'key-file');
      let seedHex: string | undefined;
      if (keyFile !== undefined) {
        try {
          seedHex = readFileSync(keyFile, 'utf8').trim();
        } catch (e) {
          throw new AitbcError(
            'CLI_BAD_FILE',
            `cannot read --key-file ${keyFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
            {
              details: { hint: 'check the path' },
            },
          );
        }
      } else seedHex = ctx.io.env.AITBC_MINER_SEED;
      if (seedHex === undefined || !/^(0x)?[0-9a-fA-F]{64}$/.test(seedHex))
        throw usageError(
          'the miner needs its 32-byte seed as 64 hex digits',
          'pass --key-file <file> or set AITBC_MINER_SEED',
          'CLI_BAD_KEY',
        );
      const seed = hexToBytes(seedHex.replace(/^0x/, '').toLowerCase(), 32);
      const apiKey = ctx.config.values.apiKey;
      if (apiKey === undefined)
        throw usageError(
          'the miner needs an API key of role miner',
          'pass --api-key or set AITBC_API_KEY (or `aitbc config set apiKey …`)',
          'CLI_USAGE_NO_API_KEY',
        );
      const { createHashRunner, createMinerAgent, createWasmRunner } = await import('@aitbc/sdk/miner');
      const kinds = (stringOption(ctx, 'kinds') ?? 'hash,wasm')
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== '');
      const runners = kinds.map((k) => {
        if (k === 'hash') return createHashRunner();
        if (k === 'wasm') return createWasmRunner();
        throw usageError(`--kinds: no built-in runner for "${k}"`, 'built-in kinds: hash, wasm', 'CLI_USAGE_BAD_VALUE');
      });
      const maxJobs = intOption(ctx, 'max-jobs', 1, Number.MAX_SAFE_INTEGER);
      const concurrency = intOption(ctx, 'concurrency', 1, 1024);
      const region = stringOption(ctx, 'region');
      const pollWait = intOption(ctx, 'poll-wait', 0, 60);
      let chainId = stringOption(ctx, 'chain-id');
      if (chainId === undefined) {
        const node = (await sdkClient(ctx)).node;
        const head = await node.head({ signal: ctx.signal });
        if (head.height < 1)
          throw usageError(
            'the chain has no block yet, so its id is unknown',
            'pass --chain-id',
            'CLI_USAGE_NO_CHAIN_ID',
          );
        chainId = (await node.block(head.height, { signal: ctx.signal })).header.chainId;
      }
      const agent = createMinerAgent({
        coordinatorUrl: ctx.config.values.coordinator!,
        apiKey,
        minerId,
        seed,
        chainId,
        runners,
        pricePerUnit: parseAmount(stringOption(ctx, 'price')!),
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(pollWait !== undefined ? { pollWaitSeconds: pollWait } : {}),
        ...(region !== undefined ? { capabilities: { region } } : {}),
        ...(ctx.io.fetch !== undefined ? { fetch: ctx.io.fetch } : {}),
      });
      let finished = 0;
      let done: () => void = () => {};
      const untilDone = new Promise<void>((resolve) => {
        done = resolve;
      });
      const count = () => {
        if (maxJobs !== undefined && ++finished >= maxJobs) done();
      };
      agent.on('jobStarted', (e) =>
        ctx.out.event(
          { event: 'started', job_id: e.jobId, kind: e.kind, client: e.client, max_price: e.maxPrice.toString() },
          (x) => `started    ${x.job_id} ${x.kind} for ${x.client}`,
        ),
      );
      agent.on('jobCompleted', (e) => {
        ctx.out.event(
          {
            event: 'completed',
            job_id: e.jobId,
            kind: e.kind,
            receipt_id: e.receipt.receipt_id,
            price: String(e.receipt.price),
            duration_ms: e.durationMs,
          },
          (x) => `completed  ${x.job_id} in ${x.duration_ms} ms, receipt ${x.receipt_id}`,
        );
        count();
      });
      agent.on('jobFailed', (e) => {
        ctx.out.event(
          { event: 'failed', job_id: e.jobId, kind: e.kind, code: e.code, message: e.message, reported: e.reported },
          (x) => `failed     ${x.job_id} ${x.code}: ${x.message}`,
        );
        count();
      });
      agent.on('error', (e) => ctx.out.note(`warning: ${e.operation}: ${e.error.code}: ${e.error.message} (retrying)`));
      const { capabilities } = await agent.start();
      ctx.out.note(
        `miner ${minerId} (${agent.address}) registered: kinds ${capabilities.jobKinds.join(', ')}; Ctrl-C to stop`,
      );
      const onAbort = () => done();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        if (!ctx.signal.aborted) await untilDone;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        ctx.out.note('stopping: draining running jobs…');
        await agent.stop();
      }
    },
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
      const m = await (await sdkClient(ctx)).pool.miner(arg(ctx, 'miner-id'), { signal: ctx.signal });
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
      const node = (await sdkClient(ctx)).node;
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
