/**
 * A JSON value as jobs carry them (inputs and outputs).
 *
 * @example
 * ```ts
 * import type { JsonValue } from '@aitbc/sdk/miner';
 * const output: JsonValue = { digest: 'ab12…', iterations: 2 };
 * ```
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * The job a runner is asked to run (what the coordinator's long-poll handed out).
 *
 * @example
 * ```ts
 * import { createHashRunner, type RunnerJob } from '@aitbc/sdk/miner';
 * const job: RunnerJob = { jobId: 'job_1', kind: 'hash', input: { text: 'hi' }, client: 'ait1…', maxPrice: 10n ** 15n };
 * const result = await createHashRunner().run(job, { signal: AbortSignal.timeout(5_000) });
 * ```
 */
export interface RunnerJob {
  /** The coordinator's job id (`job_…`). */
  readonly jobId: string;
  /** The job kind (the runner's own kind). */
  readonly kind: string;
  /** The client's input, in the kind's documented format (see the README section "Miner agent"). */
  readonly input: JsonValue;
  /** The client's `ait1…` address. */
  readonly client: string;
  /** The most the client pays for the whole job, base units. */
  readonly maxPrice: bigint;
}

/**
 * What a runner produced. The agent turns it into the signed receipt.
 *
 * @example
 * ```ts
 * import type { RunnerResult } from '@aitbc/sdk/miner';
 * const result: RunnerResult = { output: { answer: 42 }, units: 1n, unitType: 'job', metadata: { engine: 'v1' } };
 * ```
 */
export interface RunnerResult {
  /** The job output sent to the coordinator (its canonical JSON hash is the receipt's `artifact_hash`). */
  readonly output: JsonValue;
  /** Units of work done (billed as `units × pricePerUnit`, capped at the job's max price). */
  readonly units: bigint;
  /** What a unit is (`job`, `cpu_second`, `token`...). */
  readonly unitType: string;
  /** Model that served the job (receipt `model`). */
  readonly model?: string;
  /** `0x` + SHA-256 of the prompt (receipt `prompt_hash`). */
  readonly promptHash?: string;
  /** Extra receipt metadata (small JSON values). */
  readonly metadata?: { readonly [key: string]: string | number | boolean };
}

/**
 * Per-run context: the signal aborts when the coordinator cancels the job or the agent stops.
 *
 * @example
 * ```ts
 * import type { RunnerContext } from '@aitbc/sdk/miner';
 * const controller = new AbortController();
 * const context: RunnerContext = { signal: controller.signal }; // abort it to cancel the run
 * await runner.run(job, context);
 * ```
 */
export interface RunnerContext {
  /** Aborts when the job must stop; the runner then rejects promptly. */
  readonly signal: AbortSignal;
}

/**
 * A runner plugin: runs the jobs of one kind. Throw an `AitbcError` to fail the job: its message is
 * reported to the coordinator (the job becomes FAILED, with no receipt and no payment).
 *
 * @example
 * ```ts
 * import { AitbcError } from '@aitbc/crypto';
 * import { createMinerAgent, type JobRunner } from '@aitbc/sdk/miner';
 * const echo: JobRunner = {
 *   kind: 'echo',
 *   async run(job) {
 *     if (job.input === null) throw new AitbcError('MINER_BAD_INPUT', 'echo needs an input');
 *     return { output: job.input, units: 1n, unitType: 'job' };
 *   },
 * };
 * const agent = createMinerAgent({ coordinatorUrl, apiKey, minerId, seed, chainId, pricePerUnit: 1000n, runners: [echo] });
 * ```
 */
export interface JobRunner {
  /** The job kind this runner handles (advertised at registration). */
  readonly kind: string;
  /** Models this runner can serve (advertised at registration); omitted for kinds without models. */
  listModels?(): Promise<readonly string[]>;
  /** Runs one job; must stop promptly when `context.signal` aborts. */
  run(job: RunnerJob, context: RunnerContext): Promise<RunnerResult>;
}
