import { AitbcError, addressFromPublicKey, isAitbcError, publicKeyFromSeed } from '@aitbc/crypto';
import { createReceipt, type Receipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import { artifactHash } from './artifactHash.js';
import { createHashRunner, type HashRunnerOptions } from './hashRunner.js';
import type { JobRunner, JsonValue, RunnerResult } from './jobRunner.js';
import { createLlmRunner, type LlmRunnerOptions } from './llmRunner.js';
import { createHttpMinerApi, type MinerApi, type MinerAssignment } from './minerApi.js';
import { type MinerCapabilities, type ProbeOptions, probeCapabilities } from './probeCapabilities.js';
import { createWasmRunner, type WasmRunnerOptions } from './wasmRunner.js';

/**
 * Where the agent writes what it does (job ids, kinds, error messages; never keys). Default: silent.
 *
 * @example
 * ```ts
 * import type { MinerLogger } from '@aitbc/sdk/miner';
 * const logger: MinerLogger = {
 *   info: (msg, fields) => console.log(msg, fields ?? ''),
 *   warn: (msg, fields) => console.warn(msg, fields ?? ''),
 *   error: (msg, fields) => console.error(msg, fields ?? ''),
 * };
 * ```
 */
export interface MinerLogger {
  /** Detail (optional). */
  debug?(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Lifecycle: registered, job started/completed/failed, stopped. */
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** A coordinator call failed (retried), a probe step failed, jobs abandoned at the drain timeout. */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Not used by the agent today; part of the usual logger shape. */
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/**
 * What happens to jobs still running when the drain timeout of `stop()` passes.
 *
 * @example
 * ```ts
 * import type { DrainTimeoutAction } from '@aitbc/sdk/miner';
 * const onDrainTimeout: DrainTimeoutAction = 'fail'; // report leftovers as FAILED instead of letting leases expire
 * const agent = createMinerAgent({ ...options, drainTimeoutMs: 10_000, onDrainTimeout });
 * ```
 */
export type DrainTimeoutAction = 'abandon' | 'fail';

/**
 * Options of {@link createMinerAgent}.
 *
 * @example
 * ```ts
 * import { createMinerAgent, type MinerAgentOptions } from '@aitbc/sdk/miner';
 * const options: MinerAgentOptions = {
 *   coordinatorUrl: 'http://127.0.0.1:8000', apiKey: process.env.AITBC_MINER_KEY!, minerId: 'miner-1',
 *   seed, chainId: 'aitbc-devnet', pricePerUnit: 1_000n, concurrency: 2, capabilities: { region: 'eu-west' },
 * };
 * const agent = createMinerAgent(options);
 * ```
 */
export interface MinerAgentOptions {
  /** The coordinator, e.g. `http://127.0.0.1:8000` (unless `api` is given). */
  readonly coordinatorUrl?: string;
  /** An API key of role `miner` bound to `minerId` (unless `api` is given). Never logged. */
  readonly apiKey?: string;
  /** Use this client for the miner routes instead of HTTP to `coordinatorUrl`. */
  readonly api?: MinerApi;
  /** The miner id the API key is bound to (1–64 characters of `[A-Za-z0-9._:-]`). */
  readonly minerId: string;
  /** The miner's 32-byte Ed25519 seed: it signs the receipts; its address is paid. */
  readonly seed: Uint8Array;
  /** The chain the receipts settle on (receipt `chain_id`). */
  readonly chainId: string;
  /** Put into receipts as `coordinator_id` when set. */
  readonly coordinatorId?: string;
  /**
   * The runner plugins, one per job kind. Default: `hash`, `wasm` (with `wasm` limits) and, when
   * `llm` is configured, `llm.generate`. Their kinds are what the miner advertises.
   */
  readonly runners?: readonly JobRunner[];
  /** Limits of the default `wasm` runner. */
  readonly wasm?: WasmRunnerOptions;
  /** Limits of the default `hash` runner. */
  readonly hash?: HashRunnerOptions;
  /** A model server for the default `llm.generate` runner; without it the kind is not advertised. */
  readonly llm?: LlmRunnerOptions;
  /** Jobs run at once (1–1024, default 1): the agent polls only while it has a free slot. */
  readonly concurrency?: number;
  /** Price per unit of work, base units (the receipt's `unit_price`). */
  readonly pricePerUnit: bigint;
  /** Capability probe settings (`runners` come from the agent). */
  readonly probe?: Omit<ProbeOptions, 'runners' | 'onWarning'>;
  /** Overrides of probed capabilities (e.g. a fixed `ramGb`); `jobKinds` always come from the runners. */
  readonly capabilities?: Partial<Omit<MinerCapabilities, 'jobKinds'>>;
  /** Heartbeat period (ms, default 5 000): keep it well under the coordinator's lease. */
  readonly heartbeatMs?: number;
  /** Long-poll wait (s, default 30; at most the coordinator's `maxPollSeconds`). */
  readonly pollWaitSeconds?: number;
  /** How long `stop()` waits for running jobs (ms, default 30 000). */
  readonly drainTimeoutMs?: number;
  /**
   * Jobs still running at the drain timeout are `abandon`ed (default: not reported; their lease
   * expires and the coordinator re-queues them for another miner) or reported as failed (`fail`: the
   * job ends FAILED).
   */
  readonly onDrainTimeout?: DrainTimeoutAction;
  /** Backoff of retried coordinator calls: first step and cap (ms, defaults 200 / 10 000). */
  readonly retryBaseDelayMs?: number;
  /** Cap of one backoff step (ms, default 10 000). */
  readonly retryMaxDelayMs?: number;
  /** Attempts to deliver a result or failure report (default 5). */
  readonly reportAttempts?: number;
  /** Where the agent logs (default: silent). */
  readonly logger?: MinerLogger;
  /** A fetch implementation for the default HTTP client (default: the global `fetch`). */
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * A job was handed to this miner and started.
 *
 * @example
 * ```ts
 * agent.on('jobStarted', (e) => console.log(`${e.jobId} (${e.kind}) for ${e.client}, lease until ${new Date(e.leaseExpiresAt)}`));
 * ```
 */
export interface JobStartedEvent {
  /** The job id. */
  readonly jobId: string;
  /** The job kind. */
  readonly kind: string;
  /** The client's `ait1…` address. */
  readonly client: string;
  /** The most the client pays, base units. */
  readonly maxPrice: bigint;
  /** When the lease ends unless heartbeats extend it (ms since epoch). */
  readonly leaseExpiresAt: number;
}

/**
 * A job finished and the coordinator accepted its output and signed receipt.
 *
 * @example
 * ```ts
 * agent.on('jobCompleted', (e) => console.log(e.jobId, e.receipt.price, `${e.durationMs} ms`));
 * ```
 */
export interface JobCompletedEvent {
  /** The job id. */
  readonly jobId: string;
  /** The job kind. */
  readonly kind: string;
  /** The output sent to the coordinator. */
  readonly output: JsonValue;
  /** The miner-signed receipt as sent. */
  readonly receipt: Receipt;
  /** Time from the start of the run to the signed receipt (ms). */
  readonly durationMs: number;
}

/**
 * A job did not complete here.
 *
 * @example
 * ```ts
 * agent.on('jobFailed', (e) => {
 *   if (e.code === 'MINER_TIMEOUT') console.warn(`${e.jobId} timed out (reported: ${e.reported})`);
 * });
 * ```
 */
export interface JobFailedEvent {
  /** The job id. */
  readonly jobId: string;
  /** The job kind. */
  readonly kind: string;
  /** The `AitbcError` code (`MINER_TIMEOUT`, `MINER_WASM_TRAP`, `MINER_CANCELED`, `MINER_ABANDONED`...). */
  readonly code: string;
  /** What went wrong (as reported: `<message> [<code>]`). */
  readonly message: string;
  /**
   * Whether the coordinator was told (the job is then FAILED). `false` for jobs the coordinator
   * canceled, jobs abandoned at shutdown (re-queued after their lease) and reports that did not get through.
   */
  readonly reported: boolean;
}

/**
 * A coordinator call failed (the agent retries on its own).
 *
 * @example
 * ```ts
 * agent.on('error', ({ operation, error }) => console.warn(`${operation} failed: ${error.code}`)); // the agent retries
 * ```
 */
export interface AgentErrorEvent {
  /** Which call failed. */
  readonly operation: 'register' | 'poll' | 'heartbeat' | 'report';
  /** The failure (the server's code, or `MINER_UNREACHABLE`...). */
  readonly error: AitbcError;
}

/**
 * The events of a {@link MinerAgent}.
 *
 * @example
 * ```ts
 * import type { MinerAgentEvents } from '@aitbc/sdk/miner';
 * const onCompleted = (e: MinerAgentEvents['jobCompleted']) => console.log(e.jobId, e.output);
 * const off = agent.on('jobCompleted', onCompleted);
 * ```
 */
export interface MinerAgentEvents {
  /** A job was handed to this miner and started. */
  jobStarted: JobStartedEvent;
  /** A job's output and receipt were accepted. */
  jobCompleted: JobCompletedEvent;
  /** A job did not complete here. */
  jobFailed: JobFailedEvent;
  /** A coordinator call failed. */
  error: AgentErrorEvent;
}

/**
 * A running miner: register, heartbeat, long-poll, run, sign, report.
 *
 * @example
 * ```ts
 * const agent = createMinerAgent(options);
 * const { capabilities } = await agent.start();
 * console.log(agent.address, capabilities.jobKinds, agent.runningJobs);
 * process.once('SIGTERM', () => void agent.stop({ drainTimeoutMs: 15_000 }));
 * ```
 */
export interface MinerAgent {
  /** The miner id it registers as. */
  readonly minerId: string;
  /** The payout address (receipt `provider`). */
  readonly address: string;
  /** The Ed25519 public key of the seed (receipts verify under it). */
  readonly publicKey: Uint8Array;
  /** What was registered (after `start()`). */
  readonly capabilities: MinerCapabilities | undefined;
  /** Ids of the jobs running now. */
  readonly runningJobs: readonly string[];
  /** Probes, registers, then heartbeats and polls until `stop()`. Rejects if registration fails. */
  start(): Promise<{
    /** The capabilities registered. */
    capabilities: MinerCapabilities;
  }>;
  /**
   * Stops polling, lets running jobs finish for up to `drainTimeoutMs`, then handles the rest as
   * `onDrainTimeout` says; heartbeats continue until then. Resolves when the agent is idle.
   */
  stop(options?: { drainTimeoutMs?: number }): Promise<void>;
  /** Subscribes to an event; returns the unsubscribe function. Listener errors are ignored. */
  on<E extends keyof MinerAgentEvents>(event: E, listener: (payload: MinerAgentEvents[E]) => void): () => void;
}

interface RunningJob {
  readonly kind: string;
  readonly controller: AbortController;
  done: Promise<void>;
}

type AbortKind = 'cancel' | 'abandon' | 'fail';

const MINER_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
const silent: MinerLogger = { info() {}, warn() {}, error() {} };

function toAitbcError(e: unknown, fallbackCode: string): AitbcError {
  if (isAitbcError(e)) return e;
  return new AitbcError(fallbackCode, e instanceof Error ? e.message : String(e), { cause: e });
}

function isTransient(e: AitbcError): boolean {
  const status = (e.details as { status?: unknown } | undefined)?.status;
  return (
    e.code === 'MINER_UNREACHABLE' ||
    e.code.endsWith('_RATE_LIMITED') ||
    (typeof status === 'number' && (status >= 500 || status === 429))
  );
}

const isUnknownMiner = (e: AitbcError) => e.code === 'COORD_UNKNOWN_MINER' || e.code === 'POOL_UNKNOWN_MINER';
/** The coordinator no longer considers the job ours: nothing more to report. */
const isGone = (e: AitbcError) =>
  e.code === 'COORD_NOT_ASSIGNED' || e.code === 'COORD_UNKNOWN_JOB' || e.code === 'COORD_JOB_FINISHED';

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function checkInt(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isSafeInteger(v) || v < lo || v > hi) {
    throw new AitbcError('MINER_BAD_CONFIG', `${name} must be an integer in [${lo}, ${hi}]`, {
      details: { field: name },
    });
  }
}

/**
 * Creates a miner agent (no I/O until `start()`).
 *
 * The agent probes its capabilities, registers with the coordinator, then runs three loops until
 * stopped: a heartbeat every `heartbeatMs` (extends the leases of running jobs and stops jobs the
 * coordinator canceled), a long-poll for work while fewer than `concurrency` jobs run, and one task
 * per job: the runner for the job's kind runs it, the agent signs a receipt (provider = its address,
 * `units × pricePerUnit` capped at the job's max price, `artifact_hash` of the output) and reports
 * the result, or reports the runner's error as a failure.
 *
 * @example
 * ```ts
 * const agent = createMinerAgent({ coordinatorUrl: 'http://127.0.0.1:8000', apiKey, minerId: 'miner-1',
 *   seed, chainId: 'aitbc-devnet', pricePerUnit: 10n ** 15n, concurrency: 2 });
 * agent.on('jobCompleted', (e) => console.log('done', e.jobId, e.receipt.price));
 * await agent.start();
 * process.once('SIGTERM', () => void agent.stop());
 * ```
 * @throws AitbcError `MINER_BAD_CONFIG` for invalid options.
 */
export function createMinerAgent(options: MinerAgentOptions): MinerAgent {
  if (typeof options.minerId !== 'string' || !MINER_ID_RE.test(options.minerId)) {
    throw new AitbcError('MINER_BAD_CONFIG', 'minerId must be 1–64 characters of [A-Za-z0-9._:-]', {
      details: { field: 'minerId' },
    });
  }
  if (!(options.seed instanceof Uint8Array) || options.seed.length !== 32) {
    throw new AitbcError('MINER_BAD_CONFIG', 'seed must be a 32-byte Ed25519 seed', { details: { field: 'seed' } });
  }
  if (typeof options.chainId !== 'string' || options.chainId.length === 0) {
    throw new AitbcError('MINER_BAD_CONFIG', 'chainId is required', { details: { field: 'chainId' } });
  }
  if (typeof options.pricePerUnit !== 'bigint' || options.pricePerUnit < 0n) {
    throw new AitbcError('MINER_BAD_CONFIG', 'pricePerUnit must be a non-negative bigint', {
      details: { field: 'pricePerUnit' },
    });
  }
  const concurrency = options.concurrency ?? 1;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const pollWait = options.pollWaitSeconds ?? 30;
  const defaultDrainMs = options.drainTimeoutMs ?? 30_000;
  const onDrainTimeout = options.onDrainTimeout ?? 'abandon';
  const baseDelay = options.retryBaseDelayMs ?? 200;
  const maxDelay = options.retryMaxDelayMs ?? 10_000;
  const reportAttempts = options.reportAttempts ?? 5;
  checkInt('concurrency', concurrency, 1, 1024);
  checkInt('heartbeatMs', heartbeatMs, 10, 3_600_000);
  checkInt('drainTimeoutMs', defaultDrainMs, 0, 86_400_000);
  checkInt('retryBaseDelayMs', baseDelay, 1, 3_600_000);
  checkInt('retryMaxDelayMs', maxDelay, 1, 3_600_000);
  checkInt('reportAttempts', reportAttempts, 1, 100);
  if (typeof pollWait !== 'number' || !(pollWait > 0 && pollWait <= 3600)) {
    throw new AitbcError('MINER_BAD_CONFIG', 'pollWaitSeconds must be a number in (0, 3600]', {
      details: { field: 'pollWaitSeconds' },
    });
  }
  if (onDrainTimeout !== 'abandon' && onDrainTimeout !== 'fail') {
    throw new AitbcError('MINER_BAD_CONFIG', 'onDrainTimeout must be "abandon" or "fail"', {
      details: { field: 'onDrainTimeout' },
    });
  }
  const runnerList = options.runners ?? [
    createHashRunner(options.hash),
    createWasmRunner(options.wasm),
    ...(options.llm !== undefined ? [createLlmRunner(options.llm)] : []),
  ];
  const runners = new Map<string, JobRunner>();
  for (const r of runnerList) {
    if (runners.has(r.kind)) {
      throw new AitbcError('MINER_BAD_CONFIG', `two runners for job kind "${r.kind}"`, {
        details: { field: 'runners' },
      });
    }
    runners.set(r.kind, r);
  }
  if (runners.size === 0)
    throw new AitbcError('MINER_BAD_CONFIG', 'at least one runner is needed', { details: { field: 'runners' } });
  const api =
    options.api ??
    createHttpMinerApi({
      baseUrl: options.coordinatorUrl ?? '',
      apiKey: options.apiKey ?? '',
      ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    });
  const seed = options.seed;
  const publicKey = publicKeyFromSeed(seed);
  const address = addressFromPublicKey(publicKey);
  const log = options.logger ?? silent;
  const minerId = options.minerId;

  const listeners: { [E in keyof MinerAgentEvents]: Set<(p: MinerAgentEvents[E]) => void> } = {
    jobStarted: new Set(),
    jobCompleted: new Set(),
    jobFailed: new Set(),
    error: new Set(),
  };
  const emit = <E extends keyof MinerAgentEvents>(event: E, payload: MinerAgentEvents[E]) => {
    for (const l of listeners[event]) {
      try {
        l(payload);
      } catch {
        // a listener's failure never breaks the agent
      }
    }
  };
  const reportError = (operation: AgentErrorEvent['operation'], e: unknown) => {
    const error = toAitbcError(e, 'MINER_INTERNAL');
    log.warn(`${operation} failed: ${error.message}`, { code: error.code, minerId });
    emit('error', { operation, error });
    return error;
  };

  let state: 'idle' | 'starting' | 'running' | 'stopping' = 'idle';
  let starting: Promise<unknown> | undefined;
  let capabilities: MinerCapabilities | undefined;
  const jobs = new Map<string, RunningJob>();
  let pollAbort = new AbortController();
  let pollLoopDone: Promise<void> = Promise.resolve();
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let slotFreed: (() => void) | undefined;
  let stopping: Promise<void> | undefined;
  let registering: Promise<void> | undefined;
  let heartbeatInFlight: Promise<void> | undefined;
  let heartbeatAgain = false;

  const backoff = (attempt: number) => Math.random() * Math.min(maxDelay, baseDelay * 2 ** Math.min(attempt, 20));

  const register = async (): Promise<void> => {
    if (capabilities === undefined) throw new AitbcError('MINER_INTERNAL', 'capabilities are not probed yet');
    await api.register({
      minerId,
      address,
      publicKey,
      capabilities,
      pricePerUnit: options.pricePerUnit,
      maxConcurrency: concurrency,
    });
  };
  /** Registers again (e.g. after a coordinator restart lost the registry), once at a time. */
  const reRegister = (): Promise<void> => {
    registering ??= register()
      .then(() => log.info('registered again', { minerId }))
      .catch((e) => void reportError('register', e))
      .finally(() => {
        registering = undefined;
      });
    return registering;
  };

  const heartbeat = (): Promise<void> => {
    if (heartbeatInFlight !== undefined) {
      heartbeatAgain = true;
      return heartbeatInFlight;
    }
    heartbeatInFlight = heartbeatRounds().finally(() => {
      heartbeatInFlight = undefined;
    });
    return heartbeatInFlight;
  };
  const heartbeatRounds = async (): Promise<void> => {
    do {
      heartbeatAgain = false;
      try {
        const { cancel } = await api.heartbeat({
          runningJobs: [...jobs.keys()],
          activeJobs: jobs.size,
          queueLength: 0,
          utilization: jobs.size / concurrency,
        });
        for (const id of cancel) {
          const job = jobs.get(id);
          if (job !== undefined && !job.controller.signal.aborted) {
            log.info('the coordinator canceled a job', { jobId: id });
            job.controller.abort('cancel' satisfies AbortKind);
          }
        }
      } catch (e) {
        const error = reportError('heartbeat', e);
        if (isUnknownMiner(error)) await reRegister();
      }
    } while (heartbeatAgain && state !== 'idle');
  };

  /** Delivers a report, retrying transient failures with backoff. */
  const deliver = async (fn: () => Promise<void>): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await fn();
        return;
      } catch (e) {
        const error = toAitbcError(e, 'MINER_INTERNAL');
        if (!isTransient(error) || attempt >= reportAttempts) throw error;
        reportError('report', error);
        await sleep(backoff(attempt));
      }
    }
  };

  const failJob = async (a: MinerAssignment, e: unknown, signal: AbortSignal): Promise<void> => {
    const abort = signal.aborted ? (signal.reason as AbortKind) : undefined;
    if (abort === 'cancel') {
      emit('jobFailed', {
        jobId: a.jobId,
        kind: a.kind,
        code: 'MINER_CANCELED',
        message: 'canceled by the coordinator',
        reported: false,
      });
      return;
    }
    if (abort === 'abandon') {
      log.warn('job abandoned at shutdown; its lease will expire', { jobId: a.jobId });
      emit('jobFailed', {
        jobId: a.jobId,
        kind: a.kind,
        code: 'MINER_ABANDONED',
        message: 'abandoned when the miner stopped; the job is re-queued when its lease expires',
        reported: false,
      });
      return;
    }
    const error =
      abort === 'fail'
        ? new AitbcError('MINER_STOPPED', 'the miner stopped before the job finished (drain timeout)')
        : toAitbcError(e, 'MINER_RUNNER_ERROR');
    const message = `${error.message} [${error.code}]`;
    log.info('job failed', { jobId: a.jobId, code: error.code });
    try {
      await deliver(() => api.reportFailure(a.jobId, message));
      emit('jobFailed', { jobId: a.jobId, kind: a.kind, code: error.code, message, reported: true });
    } catch (reportErr) {
      const re = reportError('report', reportErr);
      emit('jobFailed', {
        jobId: a.jobId,
        kind: a.kind,
        code: error.code,
        message: `${message}; not reported: ${re.message}`,
        reported: false,
      });
    }
  };

  const runJob = async (a: MinerAssignment, controller: AbortController): Promise<void> => {
    const signal = controller.signal;
    const startedAt = Date.now();
    let result: RunnerResult;
    let hash: string;
    try {
      const runner = runners.get(a.kind);
      if (runner === undefined) {
        throw new AitbcError('MINER_UNSUPPORTED_KIND', `this miner has no runner for job kind "${a.kind}"`);
      }
      result = await runner.run(
        { jobId: a.jobId, kind: a.kind, input: a.input, client: a.client, maxPrice: a.maxPrice },
        { signal },
      );
      if (signal.aborted) throw new AitbcError('MINER_CANCELED', 'the job was canceled');
      if (typeof result.units !== 'bigint' || result.units < 0n) {
        throw new AitbcError('MINER_RUNNER_ERROR', 'the runner returned invalid units');
      }
      hash = artifactHash(result.output);
    } catch (e) {
      await failJob(a, e, signal);
      return;
    }
    const completedAt = Date.now();
    const unitPrice = options.pricePerUnit;
    // The receipt's price (units × unit price) must not exceed what the client locked: bill at most
    // floor(maxPrice / unitPrice) units and keep the measured units in the metadata.
    const billed = unitPrice > 0n && result.units * unitPrice > a.maxPrice ? a.maxPrice / unitPrice : result.units;
    let receipt: Receipt;
    try {
      receipt = signReceipt(
        createReceipt({
          jobId: a.jobId,
          provider: address,
          client: a.client,
          units: billed,
          unitType: result.unitType,
          unitPrice,
          startedAt,
          completedAt,
          chainId: options.chainId,
          ...(options.coordinatorId !== undefined ? { coordinatorId: options.coordinatorId } : {}),
          ...(result.model !== undefined ? { model: result.model } : {}),
          ...(result.promptHash !== undefined ? { promptHash: result.promptHash } : {}),
          artifactHash: hash,
          metadata: {
            job_kind: a.kind,
            ...result.metadata,
            ...(billed !== result.units ? { units_measured: result.units.toString() } : {}),
          },
        }),
        seed,
        publicKey,
      );
    } catch (e) {
      await failJob(a, e, signal);
      return;
    }
    try {
      await deliver(() => api.submitResult(a.jobId, result.output, serializeReceipt(receipt)));
    } catch (e) {
      const error = reportError('report', e);
      if (isGone(error) || isTransient(error)) {
        emit('jobFailed', {
          jobId: a.jobId,
          kind: a.kind,
          code: error.code,
          message: `the result was not delivered: ${error.message}`,
          reported: false,
        });
        return;
      }
      // Refused for a reason of ours (output too large, receipt refused...): fail the job now rather
      // than leaving it to its lease.
      await failJob(
        a,
        new AitbcError(error.code, `the coordinator refused the result: ${error.message}`),
        new AbortController().signal,
      );
      return;
    }
    log.info('job completed', { jobId: a.jobId, kind: a.kind, price: receipt.price });
    emit('jobCompleted', {
      jobId: a.jobId,
      kind: a.kind,
      output: result.output,
      receipt,
      durationMs: completedAt - startedAt,
    });
  };

  const startJob = (a: MinerAssignment): void => {
    const controller = new AbortController();
    const entry: RunningJob = { kind: a.kind, controller, done: Promise.resolve() };
    jobs.set(a.jobId, entry);
    log.info('job started', { jobId: a.jobId, kind: a.kind });
    emit('jobStarted', {
      jobId: a.jobId,
      kind: a.kind,
      client: a.client,
      maxPrice: a.maxPrice,
      leaseExpiresAt: a.leaseExpiresAt,
    });
    void heartbeat(); // ASSIGNED → RUNNING and a fresh lease right away
    entry.done = runJob(a, controller)
      .catch((e) => void reportError('report', e))
      .finally(() => {
        jobs.delete(a.jobId);
        const wake = slotFreed;
        slotFreed = undefined;
        wake?.();
      });
  };

  const pollLoop = async (signal: AbortSignal): Promise<void> => {
    let failures = 0;
    while (!signal.aborted) {
      if (jobs.size >= concurrency) {
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
        });
        continue;
      }
      let a: MinerAssignment | null;
      try {
        a = await api.poll(pollWait, signal);
        failures = 0;
      } catch (e) {
        if (signal.aborted) break;
        const error = reportError('poll', e);
        if (isUnknownMiner(error)) await reRegister();
        failures++;
        await sleep(backoff(failures), signal);
        continue;
      }
      // An assignment that arrives while stopping is still ours: run it (stop drains it).
      if (a !== null) startJob(a);
    }
  };

  async function startUp(): Promise<{ capabilities: MinerCapabilities }> {
    try {
      const probed = await probeCapabilities({
        ...options.probe,
        runners: [...runners.values()],
        onWarning: (m) => log.warn(m, { minerId }),
      });
      capabilities = { ...probed, ...options.capabilities, jobKinds: probed.jobKinds };
      await register();
    } catch (e) {
      state = 'idle';
      throw toAitbcError(e, 'MINER_INTERNAL');
    }
    log.info('registered', { minerId, address, jobKinds: capabilities.jobKinds, concurrency });
    state = 'running';
    pollAbort = new AbortController();
    heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs);
    pollLoopDone = pollLoop(pollAbort.signal);
    return { capabilities };
  }

  async function drain(drainMs: number): Promise<void> {
    pollAbort.abort();
    const wake = slotFreed;
    slotFreed = undefined;
    wake?.();
    await pollLoopDone;
    const pending = () => Promise.allSettled([...jobs.values()].map((j) => j.done));
    const timers = new AbortController(); // so no drain timer outlives stop()
    const drained = await Promise.race([pending().then(() => true), sleep(drainMs, timers.signal).then(() => false)]);
    if (!drained && jobs.size > 0) {
      log.warn(`drain timeout: ${onDrainTimeout === 'fail' ? 'failing' : 'abandoning'} ${jobs.size} job(s)`, {
        minerId,
      });
      for (const j of jobs.values())
        if (!j.controller.signal.aborted) j.controller.abort(onDrainTimeout satisfies AbortKind);
      // Built-in runners stop at once on abort; a plugin that ignores the signal is not waited for long.
      await Promise.race([pending(), sleep(5_000, timers.signal)]);
    }
    timers.abort();
    clearInterval(heartbeatTimer);
    heartbeatTimer = undefined;
    state = 'idle';
    await heartbeatInFlight;
    stopping = undefined;
    log.info('stopped', { minerId });
  }

  const agent: MinerAgent = {
    minerId,
    address,
    publicKey,
    get capabilities() {
      return capabilities;
    },
    get runningJobs() {
      return [...jobs.keys()];
    },
    on(event, listener) {
      listeners[event].add(listener);
      return () => listeners[event].delete(listener);
    },
    start() {
      if (state !== 'idle') return Promise.reject(new AitbcError('MINER_BAD_STATE', `the agent is ${state}`));
      state = 'starting';
      const p = startUp();
      starting = p.catch(() => undefined);
      return p;
    },
    stop(stopOptions = {}) {
      // Stopping while starting: let the start finish (or fail), then stop.
      if (state === 'starting') return (starting ?? Promise.resolve()).then(() => agent.stop(stopOptions));
      if (state === 'stopping' && stopping !== undefined) return stopping;
      if (state !== 'running') return Promise.resolve();
      state = 'stopping';
      const drainMs = stopOptions.drainTimeoutMs ?? defaultDrainMs;
      stopping = drain(drainMs);
      return stopping;
    },
  };
  return agent;
}
