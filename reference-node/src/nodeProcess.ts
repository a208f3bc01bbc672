import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AitbcError } from '@aitbc/crypto';

/** The repository root (where `node_modules/tsx` lives); children run with it as their working directory. */
const REPO_ROOT = join(import.meta.dirname, '..', '..');
/** The `aitbc-node` entry point run in child processes. */
export const NODE_MAIN = join(import.meta.dirname, 'main.ts');

/** Options of {@link spawnNode}. */
export interface SpawnNodeOptions {
  /** Name used to prefix the child's output lines. */
  readonly name: string;
  /** Extra environment for the child (merged over `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Extra Node.js flags for the child (e.g. `--cpu-prof`, `--inspect`). */
  readonly execArgv?: readonly string[];
  /** Receives each output line of the child (default: written to this process's stdout, prefixed). */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * A command that runs the node in place of itself (it must `exec`, keeping the pid), e.g.
   * `['ip', 'netns', 'exec', 'ns0']` to start the node inside a network namespace.
   */
  readonly launcher?: readonly string[];
}

/** A node running in a child process; see {@link spawnNode}. */
export interface NodeProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (or the signal name) when the child ends. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** Whether the child has ended. */
  readonly running: boolean;
  /** Sends a signal (default SIGTERM). */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 000) if it has not ended; resolves when it has. */
  stop(graceMs?: number): Promise<number | NodeJS.Signals>;
}

/**
 * Runs `aitbc-node <args>` in a child process, the way `npm start` runs TypeScript sources:
 * `node --import tsx --conditions=@aitbc/source reference-node/src/main.ts <args>`.
 */
export function spawnNode(args: readonly string[], options: SpawnNodeOptions): NodeProcess {
  const command = [
    process.execPath,
    ...(options.execArgv ?? []),
    '--import',
    'tsx',
    '--conditions=@aitbc/source',
    NODE_MAIN,
    ...args,
  ];
  const [file, ...argv] = [...(options.launcher ?? []), ...command] as [string, ...string[]];
  const child: ChildProcess = spawn(file, argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new AitbcError('NODE_SPAWN_FAILED', `could not start ${options.name}`);
  const onLine =
    options.onLine ??
    ((line: string, stream: 'stdout' | 'stderr') =>
      (stream === 'stderr' ? process.stderr : process.stdout).write(`${options.name.padEnd(10)}| ${line}\n`));
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (source !== null) createInterface({ input: source }).on('line', (line) => onLine(line, stream));
  }
  let running = true;
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve(code ?? signal ?? 1);
    });
  });
  return {
    name: options.name,
    pid: child.pid,
    exited,
    get running() {
      return running;
    },
    kill(signal = 'SIGTERM') {
      if (running) child.kill(signal);
    },
    async stop(graceMs = 10_000) {
      if (!running) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Polls `GET <rpcUrl>/health` until it answers 200, the child exits, or `timeoutMs` passes. */
export async function waitForHealth(rpcUrl: string, child: NodeProcess | undefined, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child !== undefined && !child.running)
      throw new AitbcError(
        'NODE_CHILD_EXITED',
        `${child.name} exited with ${String(await child.exited)} before it was ready`,
      );
    try {
      const res = await fetch(`${rpcUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end)
      throw new AitbcError('NODE_NOT_READY', `${child?.name ?? rpcUrl} did not become healthy within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
