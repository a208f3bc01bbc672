import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureStream } from '../src/cliIo.js';
import { runCli } from '../src/runCli.js';

/** One in-process run of the CLI with captured output. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `aitbc <argv>` in-process with the given environment (no inherited env: tests stay hermetic). */
export async function cli(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
  options: { stderrTTY?: boolean; signal?: AbortSignal; stdin?: string } = {},
): Promise<CliRun> {
  const stdout = captureStream();
  const stderr = captureStream({ isTTY: options.stderrTTY ?? false });
  const code = await runCli(argv, {
    stdout,
    stderr,
    // Hermetic: never the developer's own config file unless a test points at one.
    env: { AITBC_CONFIG: join(tmpdir(), `aitbc-cli-no-config-${process.pid}`, 'config.json'), ...env },
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.stdin !== undefined ? { readStdin: async () => options.stdin! } : {}),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** A fresh temporary directory and a cleanup function. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
