/** A writable text stream (process.stdout / process.stderr, or a capture in tests). */
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

/** An in-memory stream that records what is written (for tests and embedding). */
export interface CapturedStream extends CliStream {
  /** Everything written so far. */
  text(): string;
}

/** Creates a {@link CapturedStream}; `isTTY` makes it behave like a terminal. */
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
