import { AitbcError } from '@aitbc/crypto';
import type { NodeApi } from '@aitbc/sdk';
import type { JobRunner } from '@aitbc/sdk/miner';

/** The job kind of {@link createReverseRunner}. */
export const REVERSE_KIND = 'text.reverse';

/**
 * A runner of our own: job kind `text.reverse`, input `{ text }` (at most 10,000 characters),
 * output `{ text }` reversed; billed as one unit of type `job`. A bad input throws an `AitbcError`,
 * whose code and message the agent reports to the coordinator (the job ends FAILED, unpaid).
 */
export function createReverseRunner(): JobRunner {
  return {
    kind: REVERSE_KIND,
    async run(job, { signal }) {
      signal.throwIfAborted();
      const input = job.input as { text?: unknown } | null;
      if (input === null || typeof input !== 'object' || typeof input.text !== 'string' || input.text.length > 10_000)
        throw new AitbcError('EXAMPLE_BAD_INPUT', 'input must be { text: string } of at most 10,000 characters');
      return { output: { text: [...input.text].reverse().join('') }, units: 1n, unitType: 'job' };
    },
  };
}

/**
 * Wraps a runner so it starts work only once the job's escrow is locked on chain for at least the
 * job's max price (the client locks after submitting, and the coordinator can settle only a locked
 * escrow: working earlier risks working for free). Gives up after `waitMs` with `EXAMPLE_NOT_PAID`.
 */
export function requireEscrow(inner: JobRunner, node: NodeApi, waitMs = 30_000): JobRunner {
  return {
    kind: inner.kind,
    async run(job, context) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const escrow = await node.escrow(job.jobId).catch(() => undefined); // 404 until the lock is final
        if (escrow?.status === 'locked' && BigInt(escrow.amount) >= job.maxPrice) break;
        if (Date.now() > deadline)
          throw new AitbcError('EXAMPLE_NOT_PAID', `no escrow locked for ${job.jobId} within ${waitMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
        context.signal.throwIfAborted();
      }
      return inner.run(job, context);
    },
  };
}
