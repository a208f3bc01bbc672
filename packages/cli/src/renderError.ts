import { EXIT, exitCodeOf, isUnreachable } from './exitCodes.js';

/**
 * An error as the CLI reports it: one line, the server's code, a hint and the exit code.
 *
 * @example
 * ```ts
 * import { describeError, type ErrorReport } from '@aitbc/cli';
 * const report: ErrorReport = describeError(error);
 * console.error(report.code, report.message, report.hint);
 * process.exitCode = report.exitCode;
 * ```
 */
export interface ErrorReport {
  readonly code: string;
  readonly message: string;
  readonly hint: string | undefined;
  readonly exitCode: number;
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();

function hintFor(code: string, exitCode: number, error: unknown): string | undefined {
  const given = (error as { details?: { hint?: unknown } })?.details?.hint;
  if (typeof given === 'string') return given;
  if (code.endsWith('_RATE_LIMITED')) return 'the server is rate limiting: retry in a little while';
  if (code === 'COORD_NOT_COMPLETED')
    return 'the job is not finished: `aitbc client status <job-id>`, or wait with `aitbc client result <job-id> --wait`';
  switch (exitCode) {
    case EXIT.usage:
      return 'see `aitbc help`';
    case EXIT.notFound:
      return 'check the id or address (jobs are only visible with the API key that submitted them)';
    case EXIT.auth:
      return 'set the right API key: `aitbc config set apiKey <key>` (or AITBC_API_KEY, or --api-key)';
    case EXIT.timeout:
      return 'raise --timeout, or check again later';
    case EXIT.unreachable:
      return 'is the server running? check the URLs with `aitbc config get`';
    case EXIT.interrupted:
      return undefined;
    default:
      return undefined;
  }
}

function networkCause(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 8 && e !== null && e !== undefined; i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string' && /^E[A-Z]+$|^UND_ERR/.test(c)) return c;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Classifies any thrown value into an {@link ErrorReport}. `urls` (service → URL) lets an unreachable
 * service be named with the URL that was tried.
 *
 * @example
 * ```ts
 * import { describeError, renderError } from '@aitbc/cli';
 * const report = describeError(error, { node: 'http://127.0.0.1:8006' });
 * process.stderr.write(renderError(report)); // 'error CLI_UNREACHABLE: cannot reach the node at … (hint: …)'
 * ```
 */
export function describeError(error: unknown, urls: Readonly<Record<string, string | undefined>> = {}): ErrorReport {
  const exitCode = exitCodeOf(error);
  const rawCode = (error as { code?: unknown })?.code;
  let code = typeof rawCode === 'string' && /^[A-Z][A-Z0-9_]*$/.test(rawCode) ? rawCode : undefined;
  let message = error instanceof Error ? error.message : String(error);
  if (code === undefined && isUnreachable(error)) code = 'CLI_UNREACHABLE';
  if (exitCode === EXIT.unreachable) {
    const service = (error as { details?: { service?: unknown } }).details?.service;
    const name = typeof service === 'string' ? service : 'server';
    const url = typeof service === 'string' ? urls[service] : undefined;
    const why = networkCause(error);
    message = `cannot reach the ${name}${url !== undefined ? ` at ${url}` : ''}${why !== undefined ? ` (${why})` : ''}`;
  }
  code ??= exitCode === EXIT.interrupted ? 'CLI_INTERRUPTED' : 'CLI_INTERNAL';
  if (exitCode === EXIT.interrupted) message = 'interrupted';
  return { code, message: oneLine(message), hint: hintFor(code, exitCode, error), exitCode };
}

/**
 * The one-line human form: `error COORD_UNKNOWN_JOB: no such job (hint: …)`.
 *
 * @example
 * ```ts
 * import { describeError, renderError } from '@aitbc/cli';
 * process.stderr.write(renderError(describeError(error))); // 'error COORD_UNKNOWN_JOB: no such job (hint: …)\n'
 * ```
 */
export function renderError(report: ErrorReport): string {
  return `error ${report.code}: ${report.message}${report.hint === undefined ? '' : ` (hint: ${oneLine(report.hint)})`}\n`;
}

/**
 * The one-line JSON form for `--json`: `{"error":{code,message,hint,exit_code}}`.
 *
 * @example
 * ```ts
 * import { describeError, renderErrorJson } from '@aitbc/cli';
 * process.stderr.write(renderErrorJson(describeError(error))); // '{"error":{"code":…,"exit_code":3}}\n'
 * ```
 */
export function renderErrorJson(report: ErrorReport): string {
  return `${JSON.stringify({ error: { code: report.code, message: report.message, ...(report.hint !== undefined ? { hint: report.hint } : {}), exit_code: report.exitCode } })}\n`;
}
