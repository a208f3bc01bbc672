/**
 * The code of the worker thread that runs `wasm` jobs, one message at a time (evaluated as CommonJS
 * with `eval: true`, so it works the same from source, from the build and under test runners). For
 * each job it compiles the checked module and instantiates it with no imports (so one job can leave
 * nothing behind for the next), places the input in the module's memory (through `alloc(len)` when
 * the module exports it, else in fresh pages grown at the end of memory), calls
 * `entry(ptr, len) -> i64`, unpacks `(outPtr << 32) | outLen`, copies the output out and posts it back.
 */
export const WASM_WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
function fail(code, message) {
  parentPort.postMessage({ ok: false, code, message });
}
parentPort.on('message', async ({ bytes, entry, input, maxOutputBytes }) => {
  let instance;
  try {
    const module = await WebAssembly.compile(bytes);
    instance = await WebAssembly.instantiate(module, {});
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) return fail('MINER_WASM_TRAP', 'wasm trap during instantiation: ' + e.message);
    return fail('MINER_WASM_INVALID', 'the module does not instantiate: ' + (e && e.message));
  }
  const exp = instance.exports;
  const memory = exp.memory;
  if (!(memory instanceof WebAssembly.Memory)) return fail('MINER_WASM_INVALID', 'the module must export its memory as "memory"');
  const fn = exp[entry];
  if (typeof fn !== 'function' || fn.length !== 2) {
    return fail('MINER_WASM_INVALID', 'the module must export a function "' + entry + '"(ptr: i32, len: i32) -> i64');
  }
  let ptr;
  try {
    if (typeof exp.alloc === 'function') {
      ptr = exp.alloc(input.length) >>> 0;
    } else {
      const pages = Math.ceil(input.length / 65536);
      ptr = memory.grow(pages) * 65536;
    }
    if (ptr + input.length > memory.buffer.byteLength) {
      return fail('MINER_WASM_INVALID', 'alloc returned a region outside memory');
    }
    new Uint8Array(memory.buffer, ptr, input.length).set(input);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) return fail('MINER_WASM_TRAP', 'wasm trap in alloc: ' + e.message);
    return fail('MINER_WASM_MEMORY_LIMIT', 'the input does not fit in the memory limit');
  }
  let packed;
  try {
    packed = fn(ptr, input.length);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) return fail('MINER_WASM_TRAP', 'wasm trap: ' + e.message);
    return fail('MINER_WASM_TRAP', 'wasm error: ' + (e && e.message));
  }
  if (typeof packed !== 'bigint') {
    return fail('MINER_WASM_INVALID', '"' + entry + '" must return an i64 (outPtr << 32 | outLen)');
  }
  const u = BigInt.asUintN(64, packed);
  const outPtr = Number(u >> 32n);
  const outLen = Number(u & 0xffffffffn);
  if (outLen > maxOutputBytes) {
    return fail('MINER_OUTPUT_TOO_LARGE', 'the output is ' + outLen + ' bytes; the limit is ' + maxOutputBytes);
  }
  if (outPtr + outLen > memory.buffer.byteLength) {
    return fail('MINER_WASM_INVALID', 'the output region lies outside memory');
  }
  const out = new Uint8Array(memory.buffer, outPtr, outLen).slice();
  parentPort.postMessage({ ok: true, output: out }, [out.buffer]);
});
`;
