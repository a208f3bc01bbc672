import { AitbcError } from '@aitbc/crypto';
import type { JobRunner, RunnerResult } from '../../src/miner/index.js';

/**
 * A plugin runner for agent tests (kind `test.gate`): each job waits until the test opens its gate
 * (or the job is aborted), so tests control exactly when jobs finish.
 */
export function gateRunner(result: Partial<RunnerResult> = {}): JobRunner & {
  open(jobId?: string): void;
  readonly waiting: ReadonlySet<string>;
  readonly aborted: string[];
} {
  const gates = new Map<string, () => void>();
  const waiting = new Set<string>();
  const aborted: string[] = [];
  let allOpen = false;
  return {
    kind: 'test.gate',
    waiting,
    aborted,
    open(jobId) {
      if (jobId === undefined) allOpen = true;
      for (const [id, release] of gates) if (jobId === undefined || id === jobId) release();
    },
    run(job, { signal }) {
      return new Promise((resolve, reject) => {
        const release = () => {
          gates.delete(job.jobId);
          waiting.delete(job.jobId);
          resolve({ output: { gate: job.jobId }, units: 1n, unitType: 'job', ...result });
        };
        if (allOpen) return release();
        gates.set(job.jobId, release);
        waiting.add(job.jobId);
        signal.addEventListener(
          'abort',
          () => {
            gates.delete(job.jobId);
            waiting.delete(job.jobId);
            aborted.push(job.jobId);
            reject(new AitbcError('MINER_CANCELED', 'aborted'));
          },
          { once: true },
        );
      });
    },
  };
}
