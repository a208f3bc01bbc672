import { bytesToBase64url, isAitbcError } from '@aitbc/crypto';
import { describe, expect, it } from 'vitest';
import { artifactHash, checkWasmModule, createWasmRunner, type RunnerJob } from '../../src/miner/index.js';
import {
  GREET_MODULE,
  IMPORT_MODULE,
  INCREMENT_MODULE,
  LOOP_MODULE,
  memoryModule,
  outputOfLength,
  TRAP_MODULE,
  WRONG_RESULT_MODULE,
} from './wasmFixtures.js';

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, { grow(pages: number): number }> };
}

const b64 = (bytes: Uint8Array) => bytesToBase64url(bytes);
const job = (input: RunnerJob['input']): RunnerJob => ({
  jobId: 'job_test',
  kind: 'wasm',
  input,
  client: 'ait1client',
  maxPrice: 100n,
});
const ctx = () => ({ signal: new AbortController().signal });

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isAitbcError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected the job to fail');
}

describe('wasm runner (worker thread, limits)', () => {
  const runner = createWasmRunner({ timeoutMs: 5_000 });

  it('runs the module on the input and returns its output, deterministically', async () => {
    const input = { module: b64(INCREMENT_MODULE), input: b64(new TextEncoder().encode('HAL')) };
    const a = await runner.run(job(input), ctx());
    expect(a.output).toEqual({ output: b64(new TextEncoder().encode('IBM')), size: 3 });
    expect(a.unitType).toBe('cpu_second');
    expect(a.units).toBeGreaterThanOrEqual(1n);
    expect(a.metadata?.wasm_entry).toBe('run');
    const b = await runner.run(job(input), ctx());
    expect(artifactHash(b.output)).toBe(artifactHash(a.output));
  });

  it('accepts standard base64 with padding, a named entry and places the input through alloc', async () => {
    const module = Buffer.from(GREET_MODULE).toString('base64');
    const r = await runner.run(job({ module, entry: 'greet', input: 'aGk=' }), ctx());
    expect(r.output).toEqual({ output: b64(new TextEncoder().encode('hello')), size: 5 });
  });

  it('reports a trap as a failure naming the trap', async () => {
    const f = await failure(runner.run(job({ module: b64(TRAP_MODULE) }), ctx()));
    expect(f.code).toBe('MINER_WASM_TRAP');
    expect(f.message).toMatch(/unreachable/);
  });

  it('terminates an infinite loop at the deadline → timeout', async () => {
    const f = await failure(runner.run(job({ module: b64(LOOP_MODULE), timeout_ms: 300 }), ctx()));
    expect(f.code).toBe('MINER_TIMEOUT');
    expect(f.message).toMatch(/^timeout/);
  });

  it('stops a running module when the job is canceled', async () => {
    const ac = new AbortController();
    const p = runner.run(job({ module: b64(LOOP_MODULE) }), { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    expect((await failure(p)).code).toBe('MINER_CANCELED');
  });

  it('rejects modules declaring more memory than the limit, before running them', async () => {
    const small = createWasmRunner({ maxMemoryPages: 4 });
    for (const module of [memoryModule(5), memoryModule(1, 60_000)]) {
      const f = await failure(small.run(job({ module: b64(module) }), ctx()));
      expect(f.code).toBe('MINER_WASM_MEMORY_LIMIT');
    }
    expect((await small.run(job({ module: b64(memoryModule(4, 4)) }), ctx())).output).toEqual({ output: '', size: 0 });
  });

  it('caps the memory of a module that declares no maximum at the limit', () => {
    const checked = checkWasmModule(memoryModule(1), 8);
    expect(checked.maximumPages).toBe(8);
    // The DOM lib that declares WebAssembly is not in the test types: a minimal local view of it.
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const instance = new wasm.Instance(new wasm.Module(checked.bytes), {});
    const memory = instance.exports.memory!;
    expect(memory.grow(7)).toBe(1);
    expect(() => memory.grow(1)).toThrow(RangeError);
  });

  it('refuses oversized and out-of-bounds outputs', async () => {
    const capped = createWasmRunner({ maxOutputBytes: 1024 });
    expect((await failure(capped.run(job({ module: b64(outputOfLength(2048)) }), ctx()))).code).toBe(
      'MINER_OUTPUT_TOO_LARGE',
    );
    expect((await failure(runner.run(job({ module: b64(outputOfLength(70_000)) }), ctx()))).code).toBe(
      'MINER_WASM_INVALID',
    );
  });

  it.each([
    ['imports', { module: b64(IMPORT_MODULE) }, 'MINER_WASM_INVALID', /import/],
    ['not wasm', { module: b64(new TextEncoder().encode('not a module')) }, 'MINER_WASM_INVALID', /valid/],
    ['no memory', { module: b64(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])) }, 'MINER_WASM_INVALID', /memory/],
    ['a missing entry', { module: b64(INCREMENT_MODULE), entry: 'main' }, 'MINER_WASM_INVALID', /main/],
    ['an i32 result', { module: b64(WRONG_RESULT_MODULE) }, 'MINER_WASM_INVALID', /i64/],
    ['bad base64', { module: '***' }, 'MINER_BAD_INPUT', /base64/],
    ['an unknown field', { module: b64(INCREMENT_MODULE), stdin: 'x' }, 'MINER_BAD_INPUT', /stdin/],
    [
      'a timeout above the limit',
      { module: b64(INCREMENT_MODULE), timeout_ms: 999_999 },
      'MINER_BAD_INPUT',
      /timeout_ms/,
    ],
    ['a non-object input', 'module', 'MINER_BAD_INPUT', /object/],
  ])('fails a job with %s', async (_name, input, code, message) => {
    const f = await failure(runner.run(job(input), ctx()));
    expect(f.code).toBe(code);
    expect(f.message).toMatch(message);
  });

  it('reuses a warm worker only after a clean answer: after a timeout or a trap the next job runs normally', async () => {
    for (const idleWorkers of [0, 1, 2]) {
      const r = createWasmRunner({ idleWorkers, timeoutMs: 2_000 });
      const input = { module: b64(INCREMENT_MODULE), input: b64(new TextEncoder().encode('abc')) };
      const expected = { output: b64(new TextEncoder().encode('bcd')), size: 3 };
      expect((await r.run(job(input), ctx())).output).toEqual(expected);
      expect((await failure(r.run(job({ module: b64(LOOP_MODULE), timeout_ms: 100 }), ctx()))).code).toBe(
        'MINER_TIMEOUT',
      );
      expect((await r.run(job(input), ctx())).output).toEqual(expected);
      expect((await failure(r.run(job({ module: b64(TRAP_MODULE) }), ctx()))).code).toBe('MINER_WASM_TRAP');
      const [a, b] = await Promise.all([r.run(job(input), ctx()), r.run(job(input), ctx())]);
      expect([a.output, b.output]).toEqual([expected, expected]);
    }
  });

  it('refuses bad limits', () => {
    expect(() => createWasmRunner({ maxMemoryPages: 0 })).toThrow(/maxMemoryPages/);
    expect(() => createWasmRunner({ timeoutMs: 1.5 })).toThrow(/timeoutMs/);
    expect(() => createWasmRunner({ idleWorkers: -1 })).toThrow(/idleWorkers/);
  });
});
