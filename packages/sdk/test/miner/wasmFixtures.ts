/**
 * A tiny WebAssembly assembler for the runner tests: builds binary modules section by section, so
 * the fixtures need no toolchain. Opcodes are the WebAssembly 1.0 ones, named where they are used.
 */
const I32 = 0x7f;
const I64 = 0x7e;

function uleb(value: number): number[] {
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

function sleb(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const name = (s: string) => [...uleb(s.length), ...new TextEncoder().encode(s)];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];

/** One function of a fixture module. */
export interface FixtureFunction {
  readonly params: readonly number[];
  readonly results: readonly number[];
  /** Extra locals, as [count, type] pairs. */
  readonly locals?: readonly (readonly [number, number])[];
  /** Body instructions, without the final `end`. */
  readonly body: readonly number[];
  readonly exportAs?: string;
}

/** Builds a module: optional memory (exported as "memory"), functions, data, and optionally one import. */
export function wasmModule(spec: {
  memory?: { min: number; max?: number };
  functions: readonly FixtureFunction[];
  data?: { offset: number; bytes: Uint8Array };
  importFunction?: boolean;
}): Uint8Array {
  const types = spec.functions.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((r) => [r]))]);
  if (spec.importFunction) types.push([0x60, 0x00, 0x00]);
  const imported = spec.importFunction ? 1 : 0;
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  out.push(...section(1, vec(types)));
  if (spec.importFunction)
    out.push(...section(2, vec([[...name('env'), ...name('log'), 0x00, ...uleb(types.length - 1)]])));
  out.push(...section(3, vec(spec.functions.map((_, i) => uleb(i)))));
  if (spec.memory !== undefined) {
    const m = spec.memory;
    const limits = m.max === undefined ? [0x00, ...uleb(m.min)] : [0x01, ...uleb(m.min), ...uleb(m.max)];
    out.push(...section(5, vec([limits])));
  }
  const exports: number[][] = [];
  if (spec.memory !== undefined) exports.push([...name('memory'), 0x02, 0x00]);
  spec.functions.forEach((f, i) => {
    if (f.exportAs !== undefined) exports.push([...name(f.exportAs), 0x00, ...uleb(i + imported)]);
  });
  out.push(...section(7, vec(exports)));
  const bodies = spec.functions.map((f) => {
    const body = [...vec((f.locals ?? []).map(([n, t]) => [...uleb(n), t])), ...f.body, 0x0b];
    return [...uleb(body.length), ...body];
  });
  out.push(...section(10, vec(bodies)));
  if (spec.data !== undefined) {
    out.push(
      ...section(
        11,
        vec([
          [0x00, 0x41, ...sleb(BigInt(spec.data.offset)), 0x0b, ...uleb(spec.data.bytes.length), ...spec.data.bytes],
        ]),
      ),
    );
  }
  return Uint8Array.from(out);
}

const localGet = (i: number) => [0x20, i];
const i64Const = (v: bigint) => [0x42, ...sleb(v)];
/** `(outPtr << 32) | outLen` from two i32 locals. */
const packLocals = (ptr: number, len: number) => [
  ...localGet(ptr),
  0xad, // i64.extend_i32_u
  ...i64Const(32n),
  0x86, // i64.shl
  ...localGet(len),
  0xad,
  0x84, // i64.or
];

/** `run(p, n)`: adds 1 to every input byte in place and returns the same region. */
export const INCREMENT_MODULE = wasmModule({
  memory: { min: 1, max: 16 },
  functions: [
    {
      params: [I32, I32],
      results: [I64],
      locals: [[1, I32]],
      exportAs: 'run',
      body: [
        0x02,
        0x40, // block
        0x03,
        0x40, // loop
        ...localGet(2),
        ...localGet(1),
        0x4f, // i32.ge_u
        0x0d,
        0x01, // br_if 1
        ...localGet(0),
        ...localGet(2),
        0x6a, // address = p + i
        ...localGet(0),
        ...localGet(2),
        0x6a,
        0x2d,
        0x00,
        0x00, // i32.load8_u
        0x41,
        0x01,
        0x6a, // + 1
        0x3a,
        0x00,
        0x00, // i32.store8
        ...localGet(2),
        0x41,
        0x01,
        0x6a,
        0x21,
        0x02, // i += 1
        0x0c,
        0x00, // br 0
        0x0b, // end loop
        0x0b, // end block
        ...packLocals(0, 1),
      ],
    },
  ],
});

/** `run` traps with `unreachable`. */
export const TRAP_MODULE = wasmModule({
  memory: { min: 1, max: 1 },
  functions: [{ params: [I32, I32], results: [I64], exportAs: 'run', body: [0x00] }],
});

/** `run` never returns. */
export const LOOP_MODULE = wasmModule({
  memory: { min: 1, max: 1 },
  functions: [
    { params: [I32, I32], results: [I64], exportAs: 'run', body: [0x03, 0x40, 0x0c, 0x00, 0x0b, ...i64Const(0n)] },
  ],
});

/** A module with `alloc` (always offset 1024) and a `greet` entry returning "hello" from a data segment. */
export const GREET_MODULE = wasmModule({
  memory: { min: 1 },
  data: { offset: 16, bytes: new TextEncoder().encode('hello') },
  functions: [
    { params: [I32], results: [I32], exportAs: 'alloc', body: [0x41, ...sleb(1024n)] },
    { params: [I32, I32], results: [I64], exportAs: 'greet', body: i64Const((16n << 32n) | 5n) },
  ],
});

/** `run` claims an output of `len` bytes at offset 0. */
export function outputOfLength(len: number, pages = 1): Uint8Array {
  return wasmModule({
    memory: { min: pages, max: pages },
    functions: [{ params: [I32, I32], results: [I64], exportAs: 'run', body: i64Const(BigInt(len)) }],
  });
}

/** A module declaring `min`/`max` pages (and a trivial `run`). */
export function memoryModule(min: number, max?: number): Uint8Array {
  return wasmModule({
    memory: max === undefined ? { min } : { min, max },
    functions: [{ params: [I32, I32], results: [I64], exportAs: 'run', body: i64Const(0n) }],
  });
}

/** A module that imports `env.log`. */
export const IMPORT_MODULE = wasmModule({
  memory: { min: 1, max: 1 },
  importFunction: true,
  functions: [{ params: [I32, I32], results: [I64], exportAs: 'run', body: i64Const(0n) }],
});

/** `run` returns an i32 instead of the packed i64. */
export const WRONG_RESULT_MODULE = wasmModule({
  memory: { min: 1, max: 1 },
  functions: [{ params: [I32, I32], results: [I32], exportAs: 'run', body: [0x41, 0x00] }],
});
