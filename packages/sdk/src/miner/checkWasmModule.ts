import { AitbcError } from '@aitbc/crypto';

/**
 * The size of a WebAssembly page (64 KiB).
 *
 * @example
 * ```ts
 * import { WASM_PAGE_BYTES } from '@aitbc/sdk/miner';
 * const maxMemoryPages = (64 * 1024 * 1024) / WASM_PAGE_BYTES; // 1024 pages = 64 MiB
 * ```
 */
export const WASM_PAGE_BYTES = 65_536;

/**
 * What {@link checkWasmModule} found and the module to run.
 *
 * @example
 * ```ts
 * import { checkWasmModule, WASM_PAGE_BYTES } from '@aitbc/sdk/miner';
 * const { bytes, initialPages, maximumPages } = checkWasmModule(moduleBytes, 256);
 * console.log(`${bytes.length} bytes, ${initialPages}..${maximumPages} pages of ${WASM_PAGE_BYTES}`); // run it in a worker
 * ```
 */
export interface CheckedWasmModule {
  /** The module bytes to run: the input, or a copy whose memory maximum was set to the limit. */
  readonly bytes: Uint8Array;
  /** Declared initial memory (pages). */
  readonly initialPages: number;
  /** Effective maximum memory (pages): the declared maximum, or the limit when none was declared. */
  readonly maximumPages: number;
}

/** The one WebAssembly API used here (the DOM lib, which declares it, is not in this package's types). */
const wasmApi = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;

function invalid(message: string): AitbcError {
  return new AitbcError('MINER_WASM_INVALID', message);
}

class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  byte(): number {
    if (this.pos >= this.end) throw invalid('the module is truncated');
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffff_ffff) throw invalid('a LEB128 value overflows 32 bits');
        return result;
      }
    }
    throw invalid('a LEB128 value is too long');
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/**
 * Checks a `wasm` job's module against the runner's rules before it runs: a valid WebAssembly 1.0
 * binary, **no imports** (jobs are pure functions of their input, hence deterministic and
 * re-executable), exactly one non-shared 32-bit memory, declared initial and maximum memory within
 * `maxPages`. A module that declares no maximum gets `maxPages` as its maximum (so `memory.grow`
 * beyond the limit returns -1 instead of allocating).
 * @throws AitbcError `MINER_WASM_INVALID` (not a module, imports, no or several memories, shared or
 * 64-bit memory), `MINER_WASM_MEMORY_LIMIT` (declares more memory than `maxPages`).
 *
 * @example
 * ```ts
 * import { checkWasmModule } from '@aitbc/sdk/miner';
 * import { isAitbcError } from '@aitbc/crypto';
 * try {
 *   checkWasmModule(moduleBytes, 256);
 * } catch (e) {
 *   if (isAitbcError(e) && e.code === 'MINER_WASM_MEMORY_LIMIT') console.log('module wants too much memory');
 * }
 * ```
 */
export function checkWasmModule(bytes: Uint8Array, maxPages: number): CheckedWasmModule {
  if (!wasmApi.validate(bytes)) throw invalid('the module is not a valid WebAssembly binary');
  if (bytes.length < 8 || bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw invalid('only WebAssembly binary version 1 is accepted');
  }
  const r = new Reader(bytes, 8, bytes.length);
  let memory: { sectionStart: number; sectionEnd: number; initial: number; maximum: number | undefined } | undefined;
  while (r.pos < bytes.length) {
    const sectionStart = r.pos;
    const id = r.byte();
    const size = r.u32();
    const contentStart = r.pos;
    const sectionEnd = contentStart + size;
    if (sectionEnd > bytes.length) throw invalid('a section runs past the end of the module');
    const s = new Reader(bytes, contentStart, sectionEnd);
    if (id === 2 && s.u32() > 0) {
      throw invalid('the module imports something; wasm jobs must not import (they are pure functions of their input)');
    }
    if (id === 5) {
      const count = s.u32();
      if (count !== 1) throw invalid(`the module must define exactly one memory (it defines ${count})`);
      const flags = s.byte();
      if (flags !== 0 && flags !== 1) throw invalid('shared and 64-bit memories are not accepted');
      const initial = s.u32();
      const maximum = flags === 1 ? s.u32() : undefined;
      memory = { sectionStart, sectionEnd, initial, maximum };
    }
    r.pos = sectionEnd;
  }
  if (memory === undefined) throw invalid('the module must define a memory and export it as "memory"');
  if (memory.initial > maxPages || (memory.maximum !== undefined && memory.maximum > maxPages)) {
    const declared = memory.maximum ?? memory.initial;
    throw new AitbcError(
      'MINER_WASM_MEMORY_LIMIT',
      `the module declares ${declared} memory pages; this miner allows at most ${maxPages}`,
      { details: { declaredPages: declared, limitPages: maxPages } },
    );
  }
  if (memory.maximum !== undefined) return { bytes, initialPages: memory.initial, maximumPages: memory.maximum };
  const content = [1, 1, ...leb(memory.initial), ...leb(maxPages)];
  const section = Uint8Array.from([5, ...leb(content.length), ...content]);
  const patched = new Uint8Array(bytes.length - (memory.sectionEnd - memory.sectionStart) + section.length);
  patched.set(bytes.subarray(0, memory.sectionStart), 0);
  patched.set(section, memory.sectionStart);
  patched.set(bytes.subarray(memory.sectionEnd), memory.sectionStart + section.length);
  return { bytes: patched, initialPages: memory.initial, maximumPages: maxPages };
}
