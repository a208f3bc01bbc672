/** A JSON value as jobs carry them (inputs and outputs). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** The job a runner is asked to run (what the coordinator's long-poll handed out). */
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

/** What a runner produced. The agent turns it into the signed receipt. */
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

/** Per-run context: the signal aborts when the coordinator cancels the job or the agent stops. */
export interface RunnerContext {
  /** Aborts when the job must stop; the runner then rejects promptly. */
  readonly signal: AbortSignal;
}

/**
 * A runner plugin: runs the jobs of one kind. Throw an `AitbcError` to fail the job: its message is
 * reported to the coordinator (the job becomes FAILED, with no receipt and no payment).
 */
export interface JobRunner {
  /** The job kind this runner handles (advertised at registration). */
  readonly kind: string;
  /** Models this runner can serve (advertised at registration); omitted for kinds without models. */
  listModels?(): Promise<readonly string[]>;
  /** Runs one job; must stop promptly when `context.signal` aborts. */
  run(job: RunnerJob, context: RunnerContext): Promise<RunnerResult>;
}
