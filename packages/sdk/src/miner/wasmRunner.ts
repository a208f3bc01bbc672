import { Worker } from 'node:worker_threads';
import { AitbcError, bytesToBase64url, bytesToHex, sha256 } from '@aitbc/crypto';
import { checkWasmModule } from './checkWasmModule.js';
import { decodeBase64Field } from './decodeBase64Field.js';
import type { JobRunner, JsonValue, RunnerContext, RunnerJob, RunnerResult } from './jobRunner.js';
import { WASM_WORKER_SOURCE } from './wasmWorkerSource.js';

/**
 * Limits of {@link createWasmRunner}.
 *
 * @example
 * ```ts
 * import { createWasmRunner, type WasmRunnerOptions } from '@aitbc/sdk/miner';
 * const options: WasmRunnerOptions = { maxMemoryPages: 512, timeoutMs: 5_000, maxOutputBytes: 64 * 1024 };
 * const runner = createWasmRunner(options);
 * ```
 */
export interface WasmRunnerOptions {
  /** Most memory a module may declare or grow to, in 64 KiB pages (default 256 = 16 MiB). */
  readonly maxMemoryPages?: number;
  /** Wall-clock limit of one job, compile included (ms, default 10 000); the input may ask for less. */
  readonly timeoutMs?: number;
  /** Largest output in bytes (default 256 KiB). */
  readonly maxOutputBytes?: number;
  /** Largest module in bytes (default 1 MiB). */
  readonly maxModuleBytes?: number;
  /** Largest input in bytes (default 1 MiB). */
  readonly maxInputBytes?: number;
  /** JS heap limit of a worker thread (MiB, default 64); wasm memory is bounded by `maxMemoryPages`. */
  readonly workerHeapMb?: number;
  /**
   * Worker threads kept warm between jobs (default 1; 0 = a fresh thread per job). A worker that
   * timed out, was canceled or failed is terminated, never reused.
   */
  readonly idleWorkers?: number;
}

/** A parsed `wasm` job input. */
interface WasmJob {
  readonly module: Uint8Array;
  readonly input: Uint8Array;
  readonly entry: string;
  readonly timeoutMs: number;
}

function bad(message: string, field: string): AitbcError {
  return new AitbcError('MINER_BAD_INPUT', message, { details: { field } });
}

const ENTRY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * The `wasm` runner: runs a WebAssembly module on an input in a fresh worker thread with memory, time
 * and output limits. Jobs are deterministic (no imports; the ABI is in the README section "Miner agent"), so a verifier can
 * re-run one and compare the receipt's `artifact_hash`.
 *
 * Input `{ module: base64 wasm, input?: base64 bytes (default empty), entry?: export name (default
 * "run"), timeout_ms?: integer ≤ the runner's limit }`; output `{ output: base64url bytes, size }`.
 * One unit of type `cpu_second` per started second of wall time.
 *
 * Failures: `MINER_BAD_INPUT`, `MINER_WASM_INVALID`, `MINER_WASM_MEMORY_LIMIT`, `MINER_WASM_TRAP`
 * (message names the trap), `MINER_TIMEOUT` (the worker is terminated at the deadline),
 * `MINER_OUTPUT_TOO_LARGE`, `MINER_CANCELED`.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { bytesToBase64url } from '@aitbc/crypto';
 * import { createWasmRunner } from '@aitbc/sdk/miner';
 * const wasm = bytesToBase64url(await readFile('job.wasm'));
 * const { output } = await createWasmRunner().run(
 *   { jobId: 'job_1', kind: 'wasm', input: { module: wasm }, client: 'ait1…', maxPrice: 10n ** 15n },
 *   { signal: AbortSignal.timeout(10_000) },
 * );
 * ```
 */
export function createWasmRunner(options: WasmRunnerOptions = {}): JobRunner {
  const maxPages = options.maxMemoryPages ?? 256;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxOutput = options.maxOutputBytes ?? 256 * 1024;
  const maxModule = options.maxModuleBytes ?? 1024 * 1024;
  const maxInput = options.maxInputBytes ?? 1024 * 1024;
  const heapMb = options.workerHeapMb ?? 64;
  const maxIdle = options.idleWorkers ?? 1;
  for (const [name, v, hi] of [
    ['maxMemoryPages', maxPages, 65_536],
    ['timeoutMs', timeoutMs, 86_400_000],
    ['maxOutputBytes', maxOutput, 2 ** 31],
    ['maxModuleBytes', maxModule, 2 ** 31],
    ['maxInputBytes', maxInput, 2 ** 31],
    ['workerHeapMb', heapMb, 65_536],
    ['idleWorkers', maxIdle + 1, 65],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1 || v > hi) {
      throw new AitbcError('MINER_BAD_CONFIG', `wasm ${name} is out of range`, { details: { field: name } });
    }
  }
  const pool = new WorkerPool(heapMb, maxIdle);

  const parse = (input: JsonValue): WasmJob => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw bad('input must be an object {module, input?, entry?, timeout_ms?}', 'input');
    }
    const o = input as { readonly [key: string]: JsonValue };
    for (const k of Object.keys(o)) {
      if (!['module', 'input', 'entry', 'timeout_ms'].includes(k)) throw bad(`unknown field input.${k}`, k);
    }
    const entry = o.entry ?? 'run';
    if (typeof entry !== 'string' || !ENTRY_RE.test(entry) || entry === 'memory' || entry === 'alloc') {
      throw bad('input.entry must be the name of an exported function (not memory or alloc)', 'entry');
    }
    const t = o.timeout_ms ?? timeoutMs;
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 1 || t > timeoutMs) {
      throw bad(`input.timeout_ms must be an integer in [1, ${timeoutMs}]`, 'timeout_ms');
    }
    return {
      module: decodeBase64Field(o.module, 'module', maxModule),
      input: o.input === undefined ? new Uint8Array(0) : decodeBase64Field(o.input, 'input', maxInput),
      entry,
      timeoutMs: t,
    };
  };

  return {
    kind: 'wasm',
    async run(job: RunnerJob, context: RunnerContext): Promise<RunnerResult> {
      const parsed = parse(job.input);
      const checked = checkWasmModule(parsed.module, maxPages);
      const started = performance.now();
      const output = await runInWorker(pool, checked.bytes, parsed, maxOutput, context.signal);
      const seconds = Math.max(1, Math.ceil((performance.now() - started) / 1000));
      return {
        output: { output: bytesToBase64url(output), size: output.length },
        units: BigInt(seconds),
        unitType: 'cpu_second',
        metadata: {
          wasm_module_sha256: bytesToHex(sha256(parsed.module)),
          wasm_input_sha256: bytesToHex(sha256(parsed.input)),
          wasm_entry: parsed.entry,
        },
      };
    },
  };
}

type WorkerReply = { ok: true; output: Uint8Array } | { ok: false; code: string; message: string };

/** Warm worker threads: taken for a job, given back after a clean answer, terminated otherwise. */
class WorkerPool {
  /** Idle workers with the listener that drops them if they die while idle. */
  readonly #idle = new Map<Worker, () => void>();
  constructor(
    readonly heapMb: number,
    readonly maxIdle: number,
  ) {}

  take(): Worker {
    for (const [w, drop] of this.#idle) {
      this.#idle.delete(w);
      w.off('error', drop);
      w.off('exit', drop);
      w.ref();
      return w;
    }
    return new Worker(WASM_WORKER_SOURCE, {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    });
  }

  /** Keeps a worker that answered cleanly (idle workers do not keep the process alive). */
  give(w: Worker): void {
    if (this.#idle.size >= this.maxIdle) {
      void w.terminate();
      return;
    }
    const drop = () => {
      this.#idle.delete(w);
    };
    w.on('error', drop);
    w.on('exit', drop);
    w.unref();
    this.#idle.set(w, drop);
  }
}

function runInWorker(
  pool: WorkerPool,
  bytes: Uint8Array,
  job: WasmJob,
  maxOutputBytes: number,
  signal: AbortSignal,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AitbcError('MINER_CANCELED', 'the job was canceled'));
    const worker = pool.take();
    let settled = false;
    const finish = (reuse: boolean, error: AitbcError | undefined, output?: Uint8Array) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      if (reuse) {
        worker.off('error', onError);
        pool.give(worker);
      } else {
        void worker.terminate(); // onError stays attached: an error while terminating is not thrown
      }
      if (error !== undefined) reject(error);
      else resolve(output!);
    };
    const onAbort = () => finish(false, new AitbcError('MINER_CANCELED', 'the job was canceled'));
    const timer = setTimeout(
      () =>
        finish(
          false,
          new AitbcError('MINER_TIMEOUT', `timeout: the wasm job ran past its ${job.timeoutMs} ms limit`, {
            details: { timeoutMs: job.timeoutMs },
          }),
        ),
      job.timeoutMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    const onMessage = (m: WorkerReply) => {
      if (m.ok) finish(true, undefined, new Uint8Array(m.output));
      else finish(true, new AitbcError(m.code, m.message));
    };
    const onError = (e: Error & { code?: string }) => {
      const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      finish(
        false,
        new AitbcError(
          oom ? 'MINER_WASM_MEMORY_LIMIT' : 'MINER_WASM_TRAP',
          oom ? 'the wasm worker ran out of heap' : `the wasm worker failed: ${e.message}`,
        ),
      );
    };
    const onExit = (code: number) =>
      finish(false, new AitbcError('MINER_WASM_TRAP', `the wasm worker exited (code ${code})`));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ bytes, entry: job.entry, input: job.input, maxOutputBytes });
  });
}
