import { Worker } from 'node:worker_threads';
import { AitbcError, bytesToBase64url, bytesToHex, sha256 } from '@aitbc/crypto';
import { checkWasmModule } from './checkWasmModule.js';
import { decodeBase64Field } from './decodeBase64Field.js';
import type { JobRunner, JsonValue, RunnerContext, RunnerJob, RunnerResult } from './jobRunner.js';
import { WASM_WORKER_SOURCE } from './wasmWorkerSource.js';

/** Limits of {@link createWasmRunner}. */
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
  /** JS heap limit of the worker thread (MiB, default 64); wasm memory is bounded by `maxMemoryPages`. */
  readonly workerHeapMb?: number;
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
 * and output limits. Jobs are deterministic (no imports; see MINER.md for the ABI), so a verifier can
 * re-run one and compare the receipt's `artifact_hash`.
 *
 * Input `{ module: base64 wasm, input?: base64 bytes (default empty), entry?: export name (default
 * "run"), timeout_ms?: integer ≤ the runner's limit }`; output `{ output: base64url bytes, size }`.
 * One unit of type `cpu_second` per started second of wall time.
 *
 * Failures: `MINER_BAD_INPUT`, `MINER_WASM_INVALID`, `MINER_WASM_MEMORY_LIMIT`, `MINER_WASM_TRAP`
 * (message names the trap), `MINER_TIMEOUT` (the worker is terminated at the deadline),
 * `MINER_OUTPUT_TOO_LARGE`, `MINER_CANCELED`.
 */
export function createWasmRunner(options: WasmRunnerOptions = {}): JobRunner {
  const maxPages = options.maxMemoryPages ?? 256;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxOutput = options.maxOutputBytes ?? 256 * 1024;
  const maxModule = options.maxModuleBytes ?? 1024 * 1024;
  const maxInput = options.maxInputBytes ?? 1024 * 1024;
  const heapMb = options.workerHeapMb ?? 64;
  for (const [name, v, hi] of [
    ['maxMemoryPages', maxPages, 65_536],
    ['timeoutMs', timeoutMs, 86_400_000],
    ['maxOutputBytes', maxOutput, 2 ** 31],
    ['maxModuleBytes', maxModule, 2 ** 31],
    ['maxInputBytes', maxInput, 2 ** 31],
    ['workerHeapMb', heapMb, 65_536],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1 || v > hi) {
      throw new AitbcError('MINER_BAD_CONFIG', `wasm ${name} must be an integer in [1, ${hi}]`, {
        details: { field: name },
      });
    }
  }

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
      const output = await runInWorker(checked.bytes, parsed, maxOutput, heapMb, context.signal);
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

function runInWorker(
  bytes: Uint8Array,
  job: WasmJob,
  maxOutputBytes: number,
  heapMb: number,
  signal: AbortSignal,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AitbcError('MINER_CANCELED', 'the job was canceled'));
    const worker = new Worker(WASM_WORKER_SOURCE, {
      eval: true,
      workerData: { bytes, entry: job.entry, input: job.input, maxOutputBytes },
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    });
    let settled = false;
    const finish = (error: AitbcError | undefined, output?: Uint8Array) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (error !== undefined) reject(error);
      else resolve(output!);
    };
    const onAbort = () => finish(new AitbcError('MINER_CANCELED', 'the job was canceled'));
    const timer = setTimeout(
      () =>
        finish(
          new AitbcError('MINER_TIMEOUT', `timeout: the wasm job ran past its ${job.timeoutMs} ms limit`, {
            details: { timeoutMs: job.timeoutMs },
          }),
        ),
      job.timeoutMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: { ok: true; output: Uint8Array } | { ok: false; code: string; message: string }) => {
      if (m.ok) finish(undefined, new Uint8Array(m.output));
      else finish(new AitbcError(m.code, m.message));
    });
    worker.on('error', (e: Error & { code?: string }) => {
      const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      finish(
        new AitbcError(
          oom ? 'MINER_WASM_MEMORY_LIMIT' : 'MINER_WASM_TRAP',
          oom ? 'the wasm worker ran out of heap' : `the wasm worker failed: ${e.message}`,
        ),
      );
    });
    worker.on('exit', (code) => finish(new AitbcError('MINER_WASM_TRAP', `the wasm worker exited (code ${code})`)));
  });
}
