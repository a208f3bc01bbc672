import { execFile } from 'node:child_process';
import { availableParallelism, totalmem } from 'node:os';
import { isAitbcError } from '@aitbc/crypto';
import type { JobRunner } from './jobRunner.js';

/**
 * One GPU as the miner advertises it.
 *
 * @example
 * ```ts
 * for (const gpu of (await probeCapabilities()).gpus) console.log(gpu.model, `${gpu.vramGb} GiB`);
 * ```
 */
export interface MinerGpu {
  /** Model name as the driver reports it, e.g. `NVIDIA GeForce RTX 4090`. */
  readonly model: string;
  /** Memory in GiB (one decimal). */
  readonly vramGb: number;
}

/**
 * What a miner advertises at registration (the pool hub's capability fields).
 *
 * @example
 * ```ts
 * import { probeCapabilities, type MinerCapabilities } from '@aitbc/sdk/miner';
 * const caps: MinerCapabilities = { ...(await probeCapabilities()), region: 'eu-west' };
 * console.log(caps.cpuCores, caps.ramGb, caps.jobKinds);
 * ```
 */
export interface MinerCapabilities {
  /** NVIDIA GPUs found by `nvidia-smi` (empty without it). */
  readonly gpus: readonly MinerGpu[];
  /** Logical CPU cores. */
  readonly cpuCores: number;
  /** Total RAM in GiB (one decimal). */
  readonly ramGb: number;
  /** Models the runners serve. */
  readonly models: readonly string[];
  /** Job kinds the runners handle. */
  readonly jobKinds: readonly string[];
  /** Region label (e.g. `eu-west`). */
  readonly region: string;
}

/**
 * Options of {@link probeCapabilities}.
 *
 * @example
 * ```ts
 * import { createHashRunner, probeCapabilities, type ProbeOptions } from '@aitbc/sdk/miner';
 * const options: ProbeOptions = { nvidiaSmiPath: false, runners: [createHashRunner()], onWarning: console.warn };
 * const caps = await probeCapabilities(options);
 * ```
 */
export interface ProbeOptions {
  /** `nvidia-smi` to run (default `nvidia-smi` from PATH); `false` skips the GPU probe. */
  readonly nvidiaSmiPath?: string | false;
  /** Limit of each probe step (ms, default 5 000). */
  readonly timeoutMs?: number;
  /** The runners whose kinds and models are advertised. */
  readonly runners?: readonly JobRunner[];
  /** Region label (default `unknown`). */
  readonly region?: string;
  /** Called with a message for each probe step that failed (the probe goes on without it). */
  readonly onWarning?: (message: string) => void;
}

const round1 = (v: number) => Math.floor(v * 10) / 10;

function sanitizeModelName(name: string): string {
  return name
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, 128);
}

/** GPUs from `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits` (MiB). */
function parseNvidiaSmi(text: string): MinerGpu[] {
  const gpus: MinerGpu[] = [];
  for (const line of text.split('\n')) {
    const comma = line.lastIndexOf(',');
    if (comma < 0) continue;
    const model = sanitizeModelName(line.slice(0, comma));
    const mib = Number(line.slice(comma + 1).trim());
    if (model.length === 0 || !Number.isFinite(mib) || mib < 0) continue;
    gpus.push({ model, vramGb: round1(mib / 1024) });
    if (gpus.length >= 64) break;
  }
  return gpus;
}

function probeGpus(path: string, timeoutMs: number, warn: (m: string) => void): Promise<MinerGpu[]> {
  return new Promise((resolve) => {
    execFile(
      path,
      ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'],
      { timeout: timeoutMs, maxBuffer: 1024 * 1024, windowsHide: true },
      (error, stdout) => {
        if (error !== null) {
          // No nvidia-smi means no NVIDIA GPU: not worth a warning.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`nvidia-smi failed: ${error.message}`);
          resolve([]);
          return;
        }
        resolve(parseNvidiaSmi(String(stdout)));
      },
    );
  });
}

/**
 * Probes what this machine offers: CPU cores (`os.availableParallelism()`), total RAM, NVIDIA GPUs
 * through `nvidia-smi` when it is installed (none otherwise), and the job kinds and models of the
 * given runners (models come from each runner's `listModels`, e.g. an Ollama endpoint's `/api/tags`).
 * A failing step is reported through `onWarning` and skipped; the probe itself does not fail.
 *
 * @example
 * ```ts
 * const caps = await probeCapabilities({ runners: [createHashRunner()] });
 * console.log(caps.cpuCores, caps.ramGb, caps.gpus.length, caps.jobKinds); // 8 15.5 0 ['hash']
 * ```
 */
export async function probeCapabilities(options: ProbeOptions = {}): Promise<MinerCapabilities> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const warn = options.onWarning ?? (() => undefined);
  const runners = options.runners ?? [];
  const gpus =
    options.nvidiaSmiPath === false ? [] : await probeGpus(options.nvidiaSmiPath ?? 'nvidia-smi', timeoutMs, warn);
  const models = new Set<string>();
  for (const runner of runners) {
    if (runner.listModels === undefined) continue;
    try {
      const listed = await Promise.race([
        runner.listModels(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
      ]);
      for (const m of listed) models.add(m);
    } catch (e) {
      warn(
        `listing the models of the ${runner.kind} runner failed: ${isAitbcError(e) || e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  return {
    gpus,
    cpuCores: availableParallelism(),
    ramGb: round1(totalmem() / 2 ** 30),
    models: [...models].slice(0, 256),
    jobKinds: [...new Set(runners.map((r) => r.kind))],
    region: options.region ?? 'unknown',
  };
}
