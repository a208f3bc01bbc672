import { AitbcError, bytesToHex, isAitbcError, sha256, utf8ToBytes } from '@aitbc/crypto';
import { readCappedText } from '../readCappedText.js';
import type { JobRunner, JsonValue, RunnerContext, RunnerJob, RunnerResult } from './jobRunner.js';

/**
 * The HTTP protocols the `llm.generate` runner speaks.
 *
 * @example
 * ```ts
 * import { createLlmRunner, type LlmProtocol } from '@aitbc/sdk/miner';
 * const protocol: LlmProtocol = 'openai'; // POST {endpoint}/v1/completions
 * const runner = createLlmRunner({ endpoint: 'http://127.0.0.1:8080', protocol });
 * ```
 */
export type LlmProtocol = 'ollama' | 'openai';

/**
 * Options of {@link createLlmRunner}.
 *
 * @example
 * ```ts
 * import { createMinerAgent, type LlmRunnerOptions } from '@aitbc/sdk/miner';
 * const llm: LlmRunnerOptions = { endpoint: 'http://127.0.0.1:11434', defaultModel: 'llama3', maxTokens: 512, timeoutMs: 60_000 };
 * const agent = createMinerAgent({ coordinatorUrl, apiKey, minerId, seed, chainId, pricePerUnit: 10n, llm });
 * ```
 */
export interface LlmRunnerOptions {
  /** Base URL of the model server, e.g. `http://127.0.0.1:11434` (Ollama) or `http://127.0.0.1:8080` (OpenAI-compatible). */
  readonly endpoint: string;
  /** `ollama`: `POST {endpoint}/api/generate`; `openai`: `POST {endpoint}/v1/completions` (default `ollama`). */
  readonly protocol?: LlmProtocol;
  /** Bearer token for an OpenAI-compatible server (never logged). */
  readonly apiKey?: string;
  /** Model used when the job names none. */
  readonly defaultModel?: string;
  /** Per-request limit (ms, default 120 000). */
  readonly timeoutMs?: number;
  /** Largest prompt in bytes (default 256 KiB). */
  readonly maxPromptBytes?: number;
  /** Largest `max_tokens` a job may ask for (default 4096). */
  readonly maxTokens?: number;
  /** Largest response body in bytes (default 4 MiB). */
  readonly maxResponseBytes?: number;
  /** A fetch implementation (default: the global `fetch`). */
  readonly fetch?: typeof globalThis.fetch;
}

function bad(message: string, field: string): AitbcError {
  return new AitbcError('MINER_BAD_INPUT', message, { details: { field } });
}

const MODEL_RE = /^[\x21-\x7e]{1,128}$/;

interface Generated {
  readonly text: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);

/**
 * The `llm.generate` runner over a local model server: Ollama (`/api/generate`, `/api/tags`) or an
 * OpenAI-compatible server (`/v1/completions`, `/v1/models`). Input `{ prompt, model?, max_tokens?,
 * temperature?, seed? }`; output `{ text, model, prompt_tokens, completion_tokens }`. Units: tokens
 * (prompt + completion, at least 1). The receipt carries `model` and `prompt_hash`.
 *
 * Failures: `MINER_BAD_INPUT`, `MINER_LLM_UNAVAILABLE` (endpoint down), `MINER_LLM_ERROR` (an error
 * answer or a malformed one), `MINER_TIMEOUT`, `MINER_CANCELED`.
 *
 * @example
 * ```ts
 * import { createLlmRunner } from '@aitbc/sdk/miner';
 * const runner = createLlmRunner({ endpoint: 'http://127.0.0.1:11434', defaultModel: 'llama3' });
 * console.log(await runner.listModels?.()); // the models of /api/tags
 * const { output, units } = await runner.run(
 *   { jobId: 'job_1', kind: 'llm.generate', input: { prompt: 'Say hi', max_tokens: 16 }, client: 'ait1…', maxPrice: 10n ** 15n },
 *   { signal: AbortSignal.timeout(60_000) },
 * );
 * ```
 */
export function createLlmRunner(options: LlmRunnerOptions): JobRunner {
  let base: string;
  try {
    const u = new URL(options.endpoint);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
    base = u.href.replace(/\/+$/, '');
  } catch (cause) {
    throw new AitbcError('MINER_BAD_CONFIG', 'llm endpoint must be an http(s) URL', {
      details: { field: 'endpoint' },
      cause,
    });
  }
  const protocol = options.protocol ?? 'ollama';
  if (protocol !== 'ollama' && protocol !== 'openai') {
    throw new AitbcError('MINER_BAD_CONFIG', 'llm protocol must be "ollama" or "openai"', {
      details: { field: 'protocol' },
    });
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const maxPrompt = options.maxPromptBytes ?? 256 * 1024;
  const maxTokens = options.maxTokens ?? 4096;
  const maxResponse = options.maxResponseBytes ?? 4 * 1024 * 1024;

  const call = async (method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<unknown> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
    let res: Response;
    try {
      res = await doFetch(base + path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
    } catch (cause) {
      if (signal?.aborted) throw new AitbcError('MINER_CANCELED', 'the job was canceled');
      if (timeout.aborted)
        throw new AitbcError('MINER_TIMEOUT', `timeout: the llm endpoint did not answer within ${timeoutMs} ms`);
      const why = (cause as { cause?: { code?: string; message?: string } }).cause;
      throw new AitbcError(
        'MINER_LLM_UNAVAILABLE',
        `the llm endpoint ${base} is unreachable: ${why?.code ?? why?.message ?? String(cause)}`,
        {
          details: { endpoint: base },
        },
      );
    }
    let text: string;
    try {
      text = await readCappedText(res, maxResponse, 'MINER_LLM_ERROR');
    } catch (e) {
      if (isAitbcError(e)) throw e;
      if (signal?.aborted) throw new AitbcError('MINER_CANCELED', 'the job was canceled');
      throw new AitbcError('MINER_TIMEOUT', `timeout: the llm endpoint did not finish within ${timeoutMs} ms`);
    }
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        const j = JSON.parse(text) as { error?: unknown };
        const err = j.error;
        if (typeof err === 'string') message = err;
        else if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string')
          message = (err as { message: string }).message;
      } catch {
        // not JSON: keep the text
      }
      throw new AitbcError('MINER_LLM_ERROR', `the llm endpoint answered ${res.status}: ${message.slice(0, 300)}`, {
        details: { status: res.status },
      });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new AitbcError('MINER_LLM_ERROR', 'the llm endpoint answered with malformed JSON');
    }
  };

  const generate = async (
    model: string,
    prompt: string,
    params: { maxTokens?: number; temperature?: number; seed?: number },
    signal: AbortSignal,
  ): Promise<Generated> => {
    if (protocol === 'ollama') {
      const opts: Record<string, number> = {};
      if (params.maxTokens !== undefined) opts.num_predict = params.maxTokens;
      if (params.temperature !== undefined) opts.temperature = params.temperature;
      if (params.seed !== undefined) opts.seed = params.seed;
      const r = (await call('POST', '/api/generate', { model, prompt, stream: false, options: opts }, signal)) as {
        response?: unknown;
        prompt_eval_count?: unknown;
        eval_count?: unknown;
      };
      if (typeof r?.response !== 'string')
        throw new AitbcError('MINER_LLM_ERROR', 'the Ollama answer has no "response" text');
      return { text: r.response, promptTokens: count(r.prompt_eval_count), completionTokens: count(r.eval_count) };
    }
    const body: Record<string, unknown> = { model, prompt, stream: false };
    if (params.maxTokens !== undefined) body.max_tokens = params.maxTokens;
    if (params.temperature !== undefined) body.temperature = params.temperature;
    if (params.seed !== undefined) body.seed = params.seed;
    const r = (await call('POST', '/v1/completions', body, signal)) as {
      choices?: { text?: unknown }[];
      usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
    };
    const text = Array.isArray(r?.choices) ? r.choices[0]?.text : undefined;
    if (typeof text !== 'string')
      throw new AitbcError('MINER_LLM_ERROR', 'the completion answer has no choices[0].text');
    return { text, promptTokens: count(r.usage?.prompt_tokens), completionTokens: count(r.usage?.completion_tokens) };
  };

  return {
    kind: 'llm.generate',
    async listModels(): Promise<readonly string[]> {
      const r = (await call('GET', protocol === 'ollama' ? '/api/tags' : '/v1/models', undefined)) as {
        models?: { name?: unknown }[];
        data?: { id?: unknown }[];
      };
      const names = protocol === 'ollama' ? (r?.models ?? []).map((m) => m?.name) : (r?.data ?? []).map((m) => m?.id);
      return [...new Set(names.filter((n): n is string => typeof n === 'string' && MODEL_RE.test(n)))].slice(0, 256);
    },
    async run(job: RunnerJob, context: RunnerContext): Promise<RunnerResult> {
      const input = job.input;
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw bad('input must be an object {prompt, model?, max_tokens?, temperature?, seed?}', 'input');
      }
      const o = input as { readonly [key: string]: JsonValue };
      for (const k of Object.keys(o)) {
        if (!['prompt', 'model', 'max_tokens', 'temperature', 'seed'].includes(k))
          throw bad(`unknown field input.${k}`, k);
      }
      if (typeof o.prompt !== 'string' || o.prompt.length === 0)
        throw bad('input.prompt must be a non-empty string', 'prompt');
      const promptBytes = utf8ToBytes(o.prompt);
      if (promptBytes.length > maxPrompt) throw bad(`input.prompt is larger than ${maxPrompt} bytes`, 'prompt');
      const model = o.model ?? options.defaultModel;
      if (typeof model !== 'string' || !MODEL_RE.test(model)) {
        throw bad('input.model must name a model (this miner has no default model)', 'model');
      }
      const params: { maxTokens?: number; temperature?: number; seed?: number } = {};
      if (o.max_tokens !== undefined) {
        if (
          typeof o.max_tokens !== 'number' ||
          !Number.isSafeInteger(o.max_tokens) ||
          o.max_tokens < 1 ||
          o.max_tokens > maxTokens
        )
          throw bad(`input.max_tokens must be an integer in [1, ${maxTokens}]`, 'max_tokens');
        params.maxTokens = o.max_tokens;
      }
      if (o.temperature !== undefined) {
        if (typeof o.temperature !== 'number' || !(o.temperature >= 0 && o.temperature <= 2))
          throw bad('input.temperature must be a number in [0, 2]', 'temperature');
        params.temperature = o.temperature;
      }
      if (o.seed !== undefined) {
        if (typeof o.seed !== 'number' || !Number.isSafeInteger(o.seed) || o.seed < 0)
          throw bad('input.seed must be a non-negative integer', 'seed');
        params.seed = o.seed;
      }
      const g = await generate(model, o.prompt, params, context.signal);
      return {
        output: { text: g.text, model, prompt_tokens: g.promptTokens, completion_tokens: g.completionTokens },
        units: BigInt(Math.max(1, g.promptTokens + g.completionTokens)),
        unitType: 'token',
        model,
        promptHash: `0x${bytesToHex(sha256(promptBytes))}`,
      };
    },
  };
}
