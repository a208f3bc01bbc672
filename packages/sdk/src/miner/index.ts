/**
 * The AITBC miner agent (Node only): capability probe, registration, heartbeats, long-poll, runner
 * plugins by job kind (`hash`, `wasm`, `llm.generate`), signed receipts, concurrency limit and
 * graceful drain. See the "Miner agent" section of the package README for the job input formats and the wasm ABI.
 * @packageDocumentation
 */
export { artifactHash } from './artifactHash.js';
export { type CheckedWasmModule, checkWasmModule, WASM_PAGE_BYTES } from './checkWasmModule.js';
export { createHashRunner, type HashRunnerOptions } from './hashRunner.js';
export type { JobRunner, JsonValue, RunnerContext, RunnerJob, RunnerResult } from './jobRunner.js';
export { createLlmRunner, type LlmProtocol, type LlmRunnerOptions } from './llmRunner.js';
export {
  type AgentErrorEvent,
  createMinerAgent,
  type DrainTimeoutAction,
  type JobCompletedEvent,
  type JobFailedEvent,
  type JobStartedEvent,
  type MinerAgent,
  type MinerAgentEvents,
  type MinerAgentOptions,
  type MinerLogger,
} from './minerAgent.js';
export {
  createHttpMinerApi,
  type HttpMinerApiOptions,
  type MinerApi,
  type MinerAssignment,
  type MinerHeartbeatRequest,
  type MinerRegistrationRequest,
} from './minerApi.js';
export { type MinerCapabilities, type MinerGpu, type ProbeOptions, probeCapabilities } from './probeCapabilities.js';
export { createWasmRunner, type WasmRunnerOptions } from './wasmRunner.js';

/**
 * Job kinds the built-in runners handle.
 *
 * @example
 * ```ts
 * import { BUILTIN_JOB_KINDS } from '@aitbc/sdk/miner';
 * const builtIn = (BUILTIN_JOB_KINDS as readonly string[]).includes(job.kind);
 * ```
 */
export const BUILTIN_JOB_KINDS = ['hash', 'wasm', 'llm.generate'] as const;
