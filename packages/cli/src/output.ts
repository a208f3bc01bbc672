import { bytesToHex } from '@aitbc/crypto';
import type { CliIo } from './cliIo.js';
import { SILENT_SPINNER, type Spinner, startSpinner } from './spinner.js';

/**
 * A column of a human table.
 *
 * @example
 * ```ts
 * import type { Column } from '@aitbc/cli';
 * const columns: Column<{ name: string; power: number }>[] = [
 *   { header: 'NAME', value: (v) => v.name },
 *   { header: 'POWER', value: (v) => String(v.power) },
 * ];
 * ```
 */
export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
}

/**
 * How a command writes: results on stdout (JSON with `--json`), notes and progress on stderr.
 *
 * @example
 * ```ts
 * import type { CommandContext } from '@aitbc/cli';
 * async function handler({ out }: CommandContext) {
 *   const spin = out.spinner('waiting for the job');
 *   out.note('submitted'); // stderr, humans only
 *   spin.stop();
 *   out.result({ state: 'completed' }, (r) => `job ${r.state}`); // JSON with --json
 * }
 * ```
 */
export interface Output {
  /** True with `--json`. */
  readonly json: boolean;
  /** Prints the command's result: JSON with `--json`, else `human(value)` (or a generic rendering). */
  result<T>(value: T, human?: (value: T) => string): void;
  /** Prints rows as a table (humans) or a JSON array. */
  table<T>(rows: readonly T[], columns: readonly Column<T>[], jsonValue?: unknown): void;
  /** Prints one event of a stream: one JSON line (NDJSON) with `--json`, else `human(value)`. */
  event<T>(value: T, human: (value: T) => string): void;
  /** A note for humans on stderr; nothing with `--json`. */
  note(text: string): void;
  /** A spinner on stderr — only when stderr is a TTY and not `--json`; otherwise silent. */
  spinner(text: string): Spinner;
}

/** `JSON.stringify` replacer: bigints as decimal strings, bytes as hex. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return bytesToHex(value);
  return value;
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, jsonReplacer);
}

/** Renders an object as aligned `key  value` lines. */
export function renderKeyValues(value: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(value);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${scalar(value[k])}`).join('\n');
}

/** Renders rows as an aligned text table with a header. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => c.value(r).replace(/\s*\n\s*/g, ' ')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

function generic(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '(none)';
    if (value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v as object)))];
      return renderTable(
        value as Record<string, unknown>[],
        keys.map((k) => ({ header: k.toUpperCase(), value: (r: Record<string, unknown>) => scalar(r[k]) })),
      );
    }
    return value.map(scalar).join('\n');
  }
  if (typeof value === 'object' && value !== null) return renderKeyValues(value as Record<string, unknown>);
  return scalar(value);
}

/**
 * Creates the {@link Output} of one run.
 *
 * @example
 * ```ts
 * import { captureStream, createOutput } from '@aitbc/cli';
 * const stdout = captureStream();
 * const out = createOutput({ stdout, stderr: captureStream(), env: {} }, { json: false });
 * out.table([{ id: 'j1', state: 'queued' }], [{ header: 'ID', value: (r) => r.id }, { header: 'STATE', value: (r) => r.state }]);
 * ```
 */
export function createOutput(io: CliIo, options: { json: boolean }): Output {
  const { json } = options;
  const print = (text: string) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return {
    json,
    result(value, human) {
      if (json) print(JSON.stringify(value, jsonReplacer, 2));
      else print(human === undefined ? generic(value) : human(value));
    },
    table(rows, columns, jsonValue) {
      if (json) print(JSON.stringify(jsonValue ?? rows, jsonReplacer, 2));
      else print(rows.length === 0 ? '(none)' : renderTable(rows, columns));
    },
    event(value, human) {
      if (json) print(JSON.stringify(value, jsonReplacer));
      else print(human(value));
    },
    note(text) {
      if (!json) io.stderr.write(`${text}\n`);
    },
    spinner(text) {
      return !json && io.stderr.isTTY === true ? startSpinner(io.stderr, text) : SILENT_SPINNER;
    },
  };
}
