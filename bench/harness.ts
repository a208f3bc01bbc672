/**
 * A tiny benchmark harness shared by every package's `bench/*.bench.ts` script.
 *
 * A bench script calls {@link measure} (or {@link measureAsync}) for each case and {@link emit}s the
 * results; run alone it prints a table, and under `npm run bench` (bench/run.ts) its rows are
 * collected into one table for the whole repository. Never used in unit tests: speed is reported,
 * not asserted.
 */

/** One measured case. */
export interface BenchResult {
  /** Package or area, e.g. `crypto`. */
  readonly group: string;
  /** What was measured, e.g. `verify (node:crypto, cached key)`. */
  readonly name: string;
  /** Operations per second (median of the samples). */
  readonly opsPerSec: number;
  /** Free-form note: target, ratio against a baseline, sizes. */
  readonly note?: string;
}

export interface MeasureOptions {
  /** Minimum wall time per sample in ms (default 300). */
  readonly sampleMs?: number;
  /** Number of samples; the median is reported (default 5). */
  readonly samples?: number;
  /** Operations done by one call of `fn` (default 1): for batch functions. */
  readonly opsPerCall?: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Measures a synchronous function; returns median ops/s. */
export function measure(fn: () => unknown, options: MeasureOptions = {}): number {
  const sampleMs = options.sampleMs ?? 300;
  const samples = options.samples ?? 5;
  const opsPerCall = options.opsPerCall ?? 1;
  for (let i = 0; i < 3; i++) fn(); // warm-up
  const rates: number[] = [];
  for (let s = 0; s < samples; s++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < sampleMs) {
      fn();
      calls++;
      elapsed = performance.now() - start;
    }
    rates.push((calls * opsPerCall * 1000) / elapsed);
  }
  return median(rates);
}

/** Measures an async function (awaited one call at a time); returns median ops/s. */
export async function measureAsync(fn: () => Promise<unknown>, options: MeasureOptions = {}): Promise<number> {
  const sampleMs = options.sampleMs ?? 300;
  const samples = options.samples ?? 5;
  const opsPerCall = options.opsPerCall ?? 1;
  for (let i = 0; i < 2; i++) await fn();
  const rates: number[] = [];
  for (let s = 0; s < samples; s++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < sampleMs) {
      await fn();
      calls++;
      elapsed = performance.now() - start;
    }
    rates.push((calls * opsPerCall * 1000) / elapsed);
  }
  return median(rates);
}

/** Formats a rate for a table: `12.3k/s`. */
export function formatRate(opsPerSec: number): string {
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)}M/s`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)}k/s`;
  return `${opsPerSec.toFixed(1)}/s`;
}

/** Renders rows as a Markdown table. */
export function formatTable(rows: readonly BenchResult[]): string {
  const header = ['group', 'case', 'rate', 'note'];
  const body = rows.map((r) => [r.group, r.name, formatRate(r.opsPerSec), r.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Marker that bench/run.ts looks for on a bench script's stdout. */
export const RESULT_MARKER = '@@aitbc-bench@@';

/** Prints the results: a table for a person, plus machine-readable lines for bench/run.ts. */
export function emit(rows: readonly BenchResult[]): void {
  console.log(formatTable(rows));
  for (const r of rows) console.log(`${RESULT_MARKER}${JSON.stringify(r)}`);
}
