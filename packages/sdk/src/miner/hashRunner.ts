import { AitbcError, bytesToHex, sha256, utf8ToBytes } from '@aitbc/crypto';
import { decodeBase64Field } from './decodeBase64Field.js';
import type { JobRunner, JsonValue, RunnerContext, RunnerJob, RunnerResult } from './jobRunner.js';

/**
 * Options of {@link createHashRunner}.
 *
 * @example
 * ```ts
 * import { createHashRunner, type HashRunnerOptions } from '@aitbc/sdk/miner';
 * const options: HashRunnerOptions = { maxIterations: 1_000_000, maxInputBytes: 64 * 1024 };
 * const runner = createHashRunner(options);
 * ```
 */
export interface HashRunnerOptions {
  /** Largest `iterations` accepted (default 100 000 000). */
  readonly maxIterations?: number;
  /** Largest input in bytes (default 1 MiB). */
  readonly maxInputBytes?: number;
  /**
   * Longest stretch of hashing between two yields to the event loop (ms, default 10): keeps heartbeats
   * and other jobs flowing while a long job runs on the main thread.
   */
  readonly sliceMs?: number;
}

function bad(message: string, field: string): AitbcError {
  return new AitbcError('MINER_BAD_INPUT', message, { details: { field } });
}

/**
 * The `hash` runner, for tests and demos. Input `{ data: base64 } | { text: string }` plus an
 * optional `iterations` (integer ≥ 1, default 1); output `{ digest, iterations }` where `digest` is
 * the hex of SHA-256 applied `iterations` times (`h₁ = sha256(data)`, `hₙ = sha256(hₙ₋₁)`). One unit
 * of type `job` per job. Long runs yield to the event loop every `sliceMs` and stop when the job is
 * canceled.
 *
 * @example
 * ```ts
 * const runner = createHashRunner();
 * const { output } = await runner.run(
 *   { jobId: 'job_1', kind: 'hash', input: { text: 'hi', iterations: 2 }, client: 'ait1…', maxPrice: 10n },
 *   { signal: new AbortController().signal },
 * );
 * ```
 */
export function createHashRunner(options: HashRunnerOptions = {}): JobRunner {
  const maxIterations = options.maxIterations ?? 100_000_000;
  const maxInput = options.maxInputBytes ?? 1024 * 1024;
  const sliceMs = options.sliceMs ?? 10;
  return {
    kind: 'hash',
    async run(job: RunnerJob, context: RunnerContext): Promise<RunnerResult> {
      const input = job.input;
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw bad('input must be an object {data | text, iterations?}', 'input');
      }
      const o = input as { readonly [key: string]: JsonValue };
      for (const k of Object.keys(o)) {
        if (!['data', 'text', 'iterations'].includes(k)) throw bad(`unknown field input.${k}`, k);
      }
      if ((o.data === undefined) === (o.text === undefined))
        throw bad('give exactly one of input.data or input.text', 'data');
      let bytes: Uint8Array;
      if (o.text !== undefined) {
        if (typeof o.text !== 'string') throw bad('input.text must be a string', 'text');
        bytes = utf8ToBytes(o.text);
        if (bytes.length > maxInput) throw bad(`input.text is larger than ${maxInput} bytes`, 'text');
      } else {
        bytes = decodeBase64Field(o.data, 'data', maxInput);
      }
      const iterations = o.iterations ?? 1;
      if (
        typeof iterations !== 'number' ||
        !Number.isSafeInteger(iterations) ||
        iterations < 1 ||
        iterations > maxIterations
      ) {
        throw bad(`input.iterations must be an integer in [1, ${maxIterations}]`, 'iterations');
      }
      let h = sha256(bytes);
      let sliceStart = performance.now();
      for (let done = 1; done < iterations; done++) {
        h = sha256(h);
        if ((done & 255) === 0 && performance.now() - sliceStart >= sliceMs) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (context.signal.aborted) throw new AitbcError('MINER_CANCELED', 'the job was canceled');
          sliceStart = performance.now();
        }
      }
      return { output: { digest: bytesToHex(h), iterations }, units: 1n, unitType: 'job' };
    },
  };
}
