import { bytesToHex, isAitbcError, sha256, utf8ToBytes } from '@aitbc/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createLlmRunner, type RunnerJob } from '../../src/miner/index.js';
import { type LlmServer, startLlmServer } from './llmServer.js';

const servers: LlmServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});
async function server(options?: Parameters<typeof startLlmServer>[0]): Promise<LlmServer> {
  const s = await startLlmServer(options);
  servers.push(s);
  return s;
}
const job = (input: RunnerJob['input']): RunnerJob => ({
  jobId: 'job_llm',
  kind: 'llm.generate',
  input,
  client: 'ait1c',
  maxPrice: 1n,
});
const ctx = () => ({ signal: new AbortController().signal });
async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isAitbcError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a failure');
}

describe('llm.generate runner (real model server on 127.0.0.1)', () => {
  it('generates through Ollama /api/generate and lists models from /api/tags', async () => {
    const s = await server();
    const runner = createLlmRunner({ endpoint: s.url, protocol: 'ollama' });
    expect(runner.kind).toBe('llm.generate');
    expect(await runner.listModels!()).toEqual(['tiny-echo:1b', 'tiny-echo:3b']);
    const r = await runner.run(
      job({ prompt: 'hello there', model: 'tiny-echo:1b', max_tokens: 16, seed: 7, temperature: 0 }),
      ctx(),
    );
    expect(r.output).toEqual({
      text: 'echo: hello there',
      model: 'tiny-echo:1b',
      prompt_tokens: 2,
      completion_tokens: 3,
    });
    expect(r.units).toBe(5n);
    expect(r.unitType).toBe('token');
    expect(r.model).toBe('tiny-echo:1b');
    expect(r.promptHash).toBe(`0x${bytesToHex(sha256(utf8ToBytes('hello there')))}`);
    expect(s.requests.at(-1)).toMatchObject({
      path: '/api/generate',
      body: {
        model: 'tiny-echo:1b',
        prompt: 'hello there',
        stream: false,
        options: { num_predict: 16, seed: 7, temperature: 0 },
      },
    });
  });

  it('generates through an OpenAI-compatible /v1/completions with a bearer key and a default model', async () => {
    const s = await server({ apiKey: 'sk-test' });
    const runner = createLlmRunner({
      endpoint: `${s.url}/`,
      protocol: 'openai',
      apiKey: 'sk-test',
      defaultModel: 'tiny-echo:3b',
    });
    expect(await runner.listModels!()).toEqual(['tiny-echo:1b', 'tiny-echo:3b']);
    const r = await runner.run(job({ prompt: 'one two three' }), ctx());
    expect(r.output).toMatchObject({
      text: 'echo: one two three',
      model: 'tiny-echo:3b',
      prompt_tokens: 3,
      completion_tokens: 4,
    });
    expect(s.requests.at(-1)).toMatchObject({ path: '/v1/completions', authorization: 'Bearer sk-test' });
    const wrongKey = createLlmRunner({
      endpoint: s.url,
      protocol: 'openai',
      apiKey: 'sk-wrong',
      defaultModel: 'tiny-echo:3b',
    });
    const f = await failure(wrongKey.run(job({ prompt: 'x' }), ctx()));
    expect(f).toMatchObject({ code: 'MINER_LLM_ERROR' });
    expect(f.message).toMatch(/401: invalid api key/);
  });

  it('fails with the server’s message for an unknown model', async () => {
    const s = await server();
    const f = await failure(
      createLlmRunner({ endpoint: s.url }).run(job({ prompt: 'hi', model: 'llama-9000' }), ctx()),
    );
    expect(f.code).toBe('MINER_LLM_ERROR');
    expect(f.message).toMatch(/404: model 'llama-9000' not found/);
  });

  it('fails with MINER_LLM_UNAVAILABLE when the endpoint is down', async () => {
    const s = await startLlmServer();
    await s.stop();
    const runner = createLlmRunner({ endpoint: s.url, defaultModel: 'tiny-echo:1b' });
    const f = await failure(runner.run(job({ prompt: 'hi' }), ctx()));
    expect(f.code).toBe('MINER_LLM_UNAVAILABLE');
    expect(f.message).toMatch(/ECONNREFUSED/);
    await expect(runner.listModels!()).rejects.toMatchObject({ code: 'MINER_LLM_UNAVAILABLE' });
  });

  it('times out a slow endpoint and stops when canceled', async () => {
    const s = await server({ delayMs: 2_000 });
    const slow = createLlmRunner({ endpoint: s.url, defaultModel: 'tiny-echo:1b', timeoutMs: 200 });
    expect((await failure(slow.run(job({ prompt: 'hi' }), ctx()))).code).toBe('MINER_TIMEOUT');
    const ac = new AbortController();
    const p = createLlmRunner({ endpoint: s.url, defaultModel: 'tiny-echo:1b' }).run(job({ prompt: 'hi' }), {
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(), 100);
    expect((await failure(p)).code).toBe('MINER_CANCELED');
  });

  it.each([
    ['no prompt', { model: 'tiny-echo:1b' }, /prompt/],
    ['no model and no default', { prompt: 'hi' }, /model/],
    ['too many tokens', { prompt: 'hi', model: 'tiny-echo:1b', max_tokens: 1_000_000 }, /max_tokens/],
    ['a bad temperature', { prompt: 'hi', model: 'tiny-echo:1b', temperature: 'hot' }, /temperature/],
    ['an unknown field', { prompt: 'hi', model: 'tiny-echo:1b', system: 'x' }, /system/],
  ])('rejects %s before calling the endpoint', async (_name, input, message) => {
    const s = await server();
    const f = await failure(createLlmRunner({ endpoint: s.url }).run(job(input), ctx()));
    expect(f.code).toBe('MINER_BAD_INPUT');
    expect(f.message).toMatch(message);
    expect(s.requests).toHaveLength(0);
  });

  it('refuses a bad configuration', () => {
    expect(() => createLlmRunner({ endpoint: 'ftp://x' })).toThrow(/http/);
    expect(() => createLlmRunner({ endpoint: 'http://127.0.0.1:1', protocol: 'grpc' as 'openai' })).toThrow(/protocol/);
  });
});
