/**
 * A writable text stream (process.stdout / process.stderr, or a capture in tests).
 *
 * @example
 * ```ts
 * import type { CliStream } from '@aitbc/cli';
 * const lines: string[] = [];
 * const stream: CliStream = { write: (text: string) => lines.push(text), isTTY: false, columns: 120 };
 * ```
 */
export interface CliStream {
  write(text: string): unknown;
  /** True when the stream is a terminal (spinners and colour only then). */
  readonly isTTY?: boolean;
  /** Terminal width, for tables. */
  readonly columns?: number;
}

/**
 * Everything the CLI touches outside itself, injected so that tests run it in-process with captured
 * output and their own environment.
 *
 * @example
 * ```ts
 * import { type CliIo, runCli } from '@aitbc/cli';
 * const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: AbortSignal.timeout(30_000) };
 * process.exitCode = await runCli(['wallet', 'balance', 'ait1…'], io);
 * ```
 */
export interface CliIo {
  readonly stdout: CliStream;
  readonly stderr: CliStream;
  /** Environment (`AITBC_*` overrides, `AITBC_CONFIG`, `HOME`, `XDG_CONFIG_HOME`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C: the command stops and exits 130. */
  readonly signal?: AbortSignal;
  /** Reads all of standard input (for `--input -`). */
  readonly readStdin?: () => Promise<string>;
  /** A fetch implementation for the SDK (default: the global one). */
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * An in-memory stream that records what is written (for tests and embedding).
 *
 * @example
 * ```ts
 * import { captureStream, runCli } from '@aitbc/cli';
 * const stdout = captureStream();
 * await runCli(['version'], { stdout, stderr: captureStream(), env: {} });
 * console.log(stdout.text()); // e.g. '0.1.0\n'
 * ```
 */
export interface CapturedStream extends CliStream {
  /** Everything written so far. */
  text(): string;
}

/**
 * Creates a {@link CapturedStream}; `isTTY` makes it behave like a terminal.
 *
 * @example
 * ```ts
 * import { captureStream, runCli } from '@aitbc/cli';
 * const stdout = captureStream();
 * const stderr = captureStream({ isTTY: true, columns: 80 }); // spinners render as on a terminal
 * const code = await runCli(['chain', 'head', '--json'], { stdout, stderr, env: { AITBC_NODE: nodeUrl } });
 * const head = JSON.parse(stdout.text());
 * ```
 */
export function captureStream(options: { isTTY?: boolean; columns?: number } = {}): CapturedStream {
  const chunks: string[] = [];
  return {
    isTTY: options.isTTY ?? false,
    columns: options.columns ?? 100,
    write(text: string) {
      chunks.push(text);
      return true;
    },
    text: () => chunks.join(''),
  };
}
