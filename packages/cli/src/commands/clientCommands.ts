import { AitbcError } from '@aitbc/crypto';
import type { CoordinatorJob, JobSubmission } from '@aitbc/sdk';
import { formatAmount, parseAmount } from '../amount.js';
import type { CommandContext, CommandSpec, OptionSpec } from '../commandSpec.js';
import { jsonReplacer, renderKeyValues } from '../output.js';
import { usageError } from '../parseCommandLine.js';
import { sdkClient } from '../sdkClient.js';
import { arg, flag, formatTime, intOption, jsonArgument, stringOption } from './commandHelpers.js';
import { PASSPHRASE_OPTION, passphrase } from './walletCommands.js';

const SUBMIT_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'kind',
    short: 'k',
    type: 'string',
    valueName: '<kind>',
    required: true,
    description: 'job kind, e.g. hash, wasm, llm.generate',
  },
  {
    name: 'input',
    short: 'i',
    type: 'string',
    valueName: '<json|@file|->',
    required: true,
    description: 'job input as JSON, @file or - (stdin)',
  },
  {
    name: 'max-price',
    type: 'string',
    valueName: '<amount>',
    required: true,
    description: 'most you pay: 1.5, 1.5AIT or 1500…base',
  },
  {
    name: 'requirements',
    type: 'string',
    valueName: '<json>',
    description: 'hard requirements, e.g. {"min_vram_gb":16,"models":["llama3"]}',
  },
  { name: 'ttl', type: 'string', valueName: '<seconds>', description: 'expire the job if not done in time' },
  {
    name: 'bid',
    type: 'string',
    valueName: '<bidId>',
    description: 'run under your matched marketplace bid (see `aitbc marketplace bids place`)',
  },
  {
    name: 'idempotency-key',
    type: 'string',
    valueName: '<key>',
    description: 'resubmitting with the same key returns the same job',
  },
];

/** Human rendering of a job. */
export function renderJob(job: CoordinatorJob): string {
  return renderKeyValues({
    job: job.job_id,
    state: job.state,
    kind: job.kind,
    client: job.client,
    maxPrice: formatAmount(BigInt(job.max_price)),
    miner: job.miner_id,
    attempts: `${job.attempts}/${job.max_attempts}`,
    created: formatTime(job.created_at),
    updated: formatTime(job.updated_at),
    ...(job.error !== null ? { error: job.error } : {}),
    ...(job.receipt_id !== null ? { receipt: job.receipt_id } : {}),
  });
}

async function submission(ctx: CommandContext): Promise<JobSubmission> {
  const requirementsText = stringOption(ctx, 'requirements');
  const requirements =
    requirementsText === undefined ? undefined : await jsonArgument(ctx, 'requirements', requirementsText);
  if (
    requirements !== undefined &&
    (typeof requirements !== 'object' || requirements === null || Array.isArray(requirements))
  )
    throw new AitbcError('CLI_BAD_JSON', '--requirements must be a JSON object', {
      details: { hint: 'e.g. {"min_vram_gb":16}' },
    });
  const ttl = intOption(ctx, 'ttl', 1, 30 * 86_400);
  const bid = stringOption(ctx, 'bid');
  return {
    kind: stringOption(ctx, 'kind')!,
    input: await jsonArgument(ctx, 'input', stringOption(ctx, 'input')!),
    maxPrice: parseAmount(stringOption(ctx, 'max-price')!),
    ...(requirements !== undefined ? { requirements: requirements as JobSubmission['requirements'] & object } : {}),
    ...(ttl !== undefined ? { ttlMs: ttl * 1000 } : {}),
    ...(bid !== undefined ? { bidId: bid } : {}),
  };
}

/** Waits for a job to finish, with a spinner on a terminal. */
async function waitForJob(ctx: CommandContext, jobId: string): Promise<CoordinatorJob> {
  const spin = ctx.out.spinner(`job ${jobId}: waiting`);
  try {
    return await (await sdkClient(ctx)).coordinator.jobs.wait(jobId, {
      signal: ctx.signal,
      onState: (j) => spin.update(`job ${jobId}: ${j.state}`),
    });
  } finally {
    spin.stop();
  }
}

function assertCompleted(job: CoordinatorJob): void {
  if (job.state !== 'COMPLETED')
    throw new AitbcError(
      'CLI_JOB_NOT_COMPLETED',
      `job ${job.job_id} ended ${job.state}${job.error ? `: ${job.error}` : ''}`,
      {
        details: { hint: `see \`aitbc client status ${job.job_id}\`` },
      },
    );
}

function renderOutput(output: unknown): string {
  return typeof output === 'string' ? output : JSON.stringify(output, jsonReplacer, 2);
}

const jobIdArg = [{ name: 'job-id', description: 'the job id printed by `aitbc client submit`' }];

/** `aitbc client …`: submit jobs and follow them through the coordinator. */
export const CLIENT_COMMANDS: readonly CommandSpec[] = [
  {
    group: 'client',
    name: 'submit',
    summary: 'submit a compute job; prints its id (--wait: until it finishes)',
    args: [],
    options: [
      ...SUBMIT_OPTIONS,
      { name: 'wait', type: 'boolean', description: 'wait until the job reaches a final state' },
    ],
    examples: [
      {
        command: `aitbc client submit --kind hash --input '{"data":"aGk"}' --max-price 0.01`,
        description: 'hash a payload, pay at most 0.01 AIT',
      },
      {
        command: `id=$(aitbc client submit -k hash -i @input.json --max-price 1AIT --json | jq -r .job_id)`,
        description: 'keep the id in a script',
      },
    ],
    status: 'wired',
    async handler(ctx) {
      const sub = await submission(ctx);
      const key = stringOption(ctx, 'idempotency-key');
      let job = await (await sdkClient(ctx)).coordinator.jobs.submit(sub, {
        signal: ctx.signal,
        ...(key !== undefined ? { idempotencyKey: key } : {}),
      });
      if (flag(ctx, 'wait')) job = await waitForJob(ctx, job.job_id);
      ctx.out.result(job, (j) => (flag(ctx, 'wait') ? renderJob(j) : `${j.job_id}\n`));
      if (!flag(ctx, 'wait'))
        ctx.out.note(`submitted (${job.state}); follow it with: aitbc client status ${job.job_id} --wait`);
    },
  },
  {
    group: 'client',
    name: 'status',
    summary: 'show a job’s state, miner, attempts and history',
    args: jobIdArg,
    options: [
      { name: 'wait', type: 'boolean', description: 'wait until the job reaches a final state' },
      { name: 'history', type: 'boolean', description: 'also list every state change' },
    ],
    examples: [
      { command: 'aitbc client status job_2x9…', description: 'where the job is' },
      {
        command: 'aitbc client status job_2x9… --wait --timeout 120',
        description: 'wait up to 2 minutes for it to finish',
      },
    ],
    status: 'wired',
    async handler(ctx) {
      const id = arg(ctx, 'job-id');
      const job = flag(ctx, 'wait')
        ? await waitForJob(ctx, id)
        : await (await sdkClient(ctx)).coordinator.jobs.get(id, { signal: ctx.signal });
      ctx.out.result(job, (j) =>
        flag(ctx, 'history')
          ? `${renderJob(j)}\n\n${j.history.map((h) => `${formatTime(h.at)}  ${h.state}${h.miner_id ? ` ${h.miner_id}` : ''}${h.reason ? ` (${h.reason})` : ''}`).join('\n')}`
          : renderJob(j),
      );
    },
  },
  {
    group: 'client',
    name: 'result',
    summary: 'print the output of a completed job',
    args: jobIdArg,
    options: [{ name: 'wait', type: 'boolean', description: 'wait for the job to finish first' }],
    examples: [
      {
        command: 'aitbc client result job_2x9…',
        description: 'the output (exit 1 with COORD_NOT_COMPLETED if not done)',
      },
      { command: 'aitbc client result job_2x9… --wait --json', description: 'wait, then {job_id, output, receipt_id}' },
    ],
    status: 'wired',
    async handler(ctx) {
      const id = arg(ctx, 'job-id');
      if (flag(ctx, 'wait')) assertCompleted(await waitForJob(ctx, id));
      const result = await (await sdkClient(ctx)).coordinator.jobs.result(id, { signal: ctx.signal });
      ctx.out.result(result, (r) => renderOutput(r.output));
    },
  },
  {
    group: 'client',
    name: 'cancel',
    summary: 'cancel a job that has not finished',
    args: jobIdArg,
    options: [],
    examples: [{ command: 'aitbc client cancel job_2x9…', description: 'stop a queued or running job' }],
    status: 'wired',
    async handler(ctx) {
      const job = await (await sdkClient(ctx)).coordinator.jobs.cancel(arg(ctx, 'job-id'), { signal: ctx.signal });
      ctx.out.result(job, renderJob);
    },
  },
  {
    group: 'client',
    name: 'receipts',
    summary: 'list a job’s signed receipts (all pages)',
    args: jobIdArg,
    options: [],
    examples: [
      { command: 'aitbc client receipts job_2x9… --json', description: 'the receipts as JSON, to verify or archive' },
    ],
    status: 'wired',
    async handler(ctx) {
      const items: unknown[] = [];
      for await (const r of (await sdkClient(ctx)).coordinator.jobs.receipts(arg(ctx, 'job-id'), {
        signal: ctx.signal,
        maxItems: 10_000,
      }))
        items.push(r);
      ctx.out.result(items, (rs) =>
        rs.length === 0
          ? '(no receipts yet)'
          : rs
              .map((r) => {
                const o = r as Record<string, unknown>;
                const price =
                  typeof o.price === 'string' && /^[0-9]+$/.test(o.price)
                    ? formatAmount(BigInt(o.price))
                    : String(o.price);
                return renderKeyValues({
                  receipt: o.receipt_id,
                  status: o.status,
                  provider: o.provider,
                  units: `${String(o.units)} ${String(o.unit_type)}`,
                  price,
                  completed: formatTime(Number(o.completed_at)),
                });
              })
              .join('\n\n'),
      );
    },
  },
  {
    group: 'client',
    name: 'run',
    summary: 'submit a job, wait for it and print its output (paid from a wallet with --pay-from)',
    description:
      'With --pay-from the job is paid: the wallet daemon unlocks the wallet (passphrase from --passphrase-file or $AITBC_PASSPHRASE, never from the command line), the job’s max price is locked in escrow on chain for the coordinator of the pinned `coordinatorKey`, and the receipt must verify under that key before the output is printed; the coordinator then settles the escrow (the miner is paid the receipt’s price, the rest is returned).',
    args: [],
    options: [
      ...SUBMIT_OPTIONS,
      {
        name: 'pay-from',
        type: 'string',
        valueName: '<wallet-id>',
        description: 'pay through the wallet daemon from this wallet (escrow lock, verified receipt)',
      },
      PASSPHRASE_OPTION,
    ],
    examples: [
      {
        command: `aitbc client run --kind hash --input '{"data":"aGk"}' --max-price 0.01`,
        description: 'one command: submit, wait, print the output',
      },
      {
        command: `aitbc client run -k hash -i '{"text":"hi"}' --max-price 0.1 --pay-from 5f3c… --passphrase-file pass`,
        description: 'paid: escrow locked from the wallet, receipt verified under the pinned coordinator key',
      },
      {
        command: `aitbc client run -k llm.generate -i @prompt.json --max-price 2 --timeout 600 --json`,
        description: 'give up after 10 minutes (exit 5)',
      },
    ],
    status: 'wired',
    async handler(ctx) {
      const sub = await submission(ctx);
      const key = stringOption(ctx, 'idempotency-key');
      const payFrom = stringOption(ctx, 'pay-from');
      const sdk = await sdkClient(ctx);
      if (payFrom !== undefined) {
        if (ctx.config.values.coordinatorKey === undefined)
          throw usageError(
            '--pay-from needs the coordinator’s public key pinned (coordinatorKey)',
            'aitbc config set coordinatorKey <hex>, or --coordinator-key / $AITBC_COORDINATOR_KEY',
          );
        const secret = passphrase(ctx);
        const { session } = await sdk.wallet.unlock(
          payFrom,
          { passphrase: secret, ttlSeconds: 600 },
          { signal: ctx.signal },
        );
        const spin = ctx.out.spinner('submitting');
        try {
          const run = await sdk.jobs.run({
            ...sub,
            wallet: { walletId: payFrom, session },
            signal: ctx.signal,
            ...(key !== undefined ? { idempotencyKey: key } : {}),
            onProgress(e) {
              if (e.type === 'submitted') ctx.out.note(`job ${e.job.job_id} submitted`);
              else if (e.type === 'escrow_submitted') spin.update(`escrow lock ${e.txId} sent`);
              else if (e.type === 'escrow_locked')
                ctx.out.note(`escrow locked: ${formatAmount(BigInt(e.escrow.amount))}`);
              else if (e.type === 'state') spin.update(`job ${e.job.job_id}: ${e.job.state}`);
            },
          });
          ctx.out.note(
            `receipt ${run.receipt.receipt_id} verified: ${formatAmount(BigInt(String(run.receipt.price)))} to ${run.receipt.provider}`,
          );
          ctx.out.result(
            {
              job_id: run.job.job_id,
              output: run.output,
              receipt: run.receipt,
              escrow_tx: run.escrowTxId,
            },
            (r) => renderOutput(r.output),
          );
        } finally {
          spin.stop();
          await sdk.wallet.lock(payFrom).catch(() => undefined);
        }
        return;
      }
      const coordinator = sdk.coordinator;
      const submitted = await coordinator.jobs.submit(sub, {
        signal: ctx.signal,
        ...(key !== undefined ? { idempotencyKey: key } : {}),
      });
      ctx.out.note(`job ${submitted.job_id} submitted`);
      assertCompleted(await waitForJob(ctx, submitted.job_id));
      const result = await coordinator.jobs.result(submitted.job_id, { signal: ctx.signal });
      ctx.out.result(result, (r) => renderOutput(r.output));
    },
  },
];
