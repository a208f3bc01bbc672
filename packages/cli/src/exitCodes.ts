import { isAitbcError } from '@aitbc/crypto';

/**
 * The exit codes scripts can rely on (also documented in the README).
 *
 * @example
 * ```ts
 * import { EXIT, runCli } from '@aitbc/cli';
 * const code = await runCli(['client', 'result', jobId, '--wait', '--timeout', '60'], io);
 * if (code === EXIT.timeout) console.log('still running, try again later');
 * else if (code === EXIT.notFound) console.log('no such job');
 * ```
 */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** The server answered with an error (or an unexpected failure). */
  api: 1,
  /** Bad command line or configuration: unknown command/option, missing argument, bad amount or URL. */
  usage: 2,
  /** The thing asked for does not exist (unknown job, block, tx, account, miner). */
  notFound: 3,
  /** Missing or refused credentials (HTTP 401/403). */
  auth: 4,
  /** A wait exceeded `--timeout` (job completion, finality). */
  timeout: 5,
  /** The server could not be reached (connection refused, DNS, reset). */
  unreachable: 6,
  /** Interrupted by Ctrl-C (SIGINT). */
  interrupted: 130,
} as const;

/**
 * One row of the exit-code table.
 *
 * @example
 * ```ts
 * import type { ExitCodeRow } from '@aitbc/cli';
 * const row: ExitCodeRow = { code: 5, meaning: 'a wait exceeded --timeout' };
 * ```
 */
export interface ExitCodeRow {
  readonly code: number;
  readonly meaning: string;
}

/**
 * The exit-code table in order, as `aitbc help exit-codes` and the README print it.
 *
 * @example
 * ```ts
 * import { EXIT_CODE_TABLE } from '@aitbc/cli';
 * const markdown = EXIT_CODE_TABLE.map((r) => `| ${r.code} | ${r.meaning} |`).join('\n');
 * ```
 */
export const EXIT_CODE_TABLE: readonly ExitCodeRow[] = [
  { code: EXIT.ok, meaning: 'success' },
  { code: EXIT.api, meaning: 'the server answered with an error, or an unexpected failure' },
  {
    code: EXIT.usage,
    meaning: 'usage or configuration error (unknown command or option, bad argument, amount, URL or config file)',
  },
  { code: EXIT.notFound, meaning: 'not found (unknown job, block, transaction, account or miner)' },
  { code: EXIT.auth, meaning: 'authentication: missing or refused credentials' },
  { code: EXIT.timeout, meaning: 'a wait exceeded --timeout' },
  { code: EXIT.unreachable, meaning: 'the server could not be reached' },
  { code: EXIT.interrupted, meaning: 'interrupted (Ctrl-C)' },
];

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The chain of `cause`s of an error, itself first (bounded). */
function causes(error: unknown): unknown[] {
  const out: unknown[] = [];
  let e: unknown = error;
  for (let i = 0; i < 8 && e !== undefined && e !== null; i++) {
    out.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

/** True when the error (or a cause) says the server could not be reached. */
export function isUnreachable(error: unknown): boolean {
  return causes(error).some((e) => {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || /_(NETWORK|UNREACHABLE|CONNECTION)(_|$)/.test(code)))
      return true;
    return e instanceof TypeError && e.message === 'fetch failed';
  });
}

function httpStatus(error: unknown): number | undefined {
  for (const e of causes(error)) {
    const direct = (e as { status?: unknown }).status;
    if (typeof direct === 'number') return direct;
    const s = (e as { details?: { status?: unknown } }).details?.status;
    if (typeof s === 'number') return s;
  }
  return undefined;
}

/**
 * The exit code for an error thrown by a command.
 *
 * @example
 * ```ts
 * import { AitbcError } from '@aitbc/crypto';
 * import { exitCodeOf } from '@aitbc/cli';
 * exitCodeOf(new AitbcError('CLI_BAD_AMOUNT', 'bad amount')); // 2 (EXIT.usage)
 * exitCodeOf(new AitbcError('COORD_UNKNOWN_JOB', 'no such job')); // 3 (EXIT.notFound)
 * ```
 */
export function exitCodeOf(error: unknown): number {
  const code =
    isAitbcError(error) || typeof (error as { code?: unknown })?.code === 'string'
      ? String((error as { code: string }).code)
      : '';
  if (code === 'CLI_INTERRUPTED' || (error as { name?: unknown })?.name === 'AbortError') return EXIT.interrupted;
  if (code === 'CLI_TIMEOUT' || /_TIMEOUT$/.test(code)) return EXIT.timeout;
  if (code.startsWith('CLI_USAGE') || code.startsWith('CLI_BAD_') || code.startsWith('CLI_CONFIG')) return EXIT.usage;
  if (isUnreachable(error)) return EXIT.unreachable;
  const status = httpStatus(error);
  if (status === 401 || status === 403 || /_(UNAUTHORIZED|FORBIDDEN|LOGIN_FAILED)$/.test(code)) return EXIT.auth;
  if (status === 404 || /_(UNKNOWN_[A-Z_]+|NOT_FOUND)$/.test(code) || code === 'CLI_NOT_FOUND') return EXIT.notFound;
  return EXIT.api;
}
