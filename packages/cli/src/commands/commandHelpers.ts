import { readFileSync } from 'node:fs';
import { AitbcError } from '@aitbc/crypto';
import type { CommandContext } from '../commandSpec.js';
import { usageError } from '../parseCommandLine.js';

/** A string option (or undefined). */
export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.options[name];
  return typeof v === 'string' ? v : undefined;
}

/** A boolean flag. */
export function flag(ctx: CommandContext, name: string): boolean {
  return ctx.options[name] === true;
}

/** A required positional argument (the parser guarantees presence for required ones). */
export function arg(ctx: CommandContext, name: string): string {
  const v = ctx.args[name];
  if (v === undefined) throw usageError(`missing <${name}>`, 'see `aitbc help`');
  return v;
}

/** A positive integer option within bounds. */
export function intOption(ctx: CommandContext, name: string, min: number, max: number): number | undefined {
  const v = stringOption(ctx, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw usageError(
      `--${name} must be an integer in [${min}, ${max}], got "${v}"`,
      `for example --${name} ${min}`,
      'CLI_USAGE_BAD_VALUE',
    );
  return n;
}

/** A non-negative number option (seconds) within bounds, in ms. */
export function secondsOption(ctx: CommandContext, name: string, max: number): number | undefined {
  const v = stringOption(ctx, name);
  if (v === undefined) return undefined;
  const n = Number(v.replace(/s$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > max)
    throw usageError(
      `--${name} must be a number of seconds in [0, ${max}], got "${v}"`,
      `for example --${name} 5`,
      'CLI_USAGE_BAD_VALUE',
    );
  return Math.round(n * 1000);
}

/**
 * Reads a JSON argument: inline JSON text, `@path` for a file, `-` for standard input.
 * @throws AitbcError `CLI_BAD_JSON` (exit 2).
 */
export async function jsonArgument(ctx: CommandContext, name: string, text: string): Promise<unknown> {
  let source = text;
  if (text === '-') {
    if (ctx.io.readStdin === undefined)
      throw usageError(`--${name} -: no standard input here`, 'pass the JSON inline or as @file');
    source = await ctx.io.readStdin();
  } else if (text.startsWith('@')) {
    try {
      source = readFileSync(text.slice(1), 'utf8');
    } catch (e) {
      throw new AitbcError(
        'CLI_BAD_FILE',
        `--${name}: cannot read ${text.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
        {
          details: { hint: 'check the path after @' },
        },
      );
    }
  }
  try {
    return JSON.parse(source);
  } catch {
    throw new AitbcError('CLI_BAD_JSON', `--${name} is not valid JSON`, {
      details: { hint: `pass JSON, e.g. --${name} '{"data":"aGk"}' (strings need quotes: '"text"'), @file or -` },
    });
  }
}

/** `2026-12-01 19:30:12Z` from a ms timestamp. */
export function formatTime(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  return `${new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')}`;
}

/** Shortens a long hex id for tables: `0x1234…abcd`. */
export function shortId(id: string | null | undefined, keep = 10): string {
  if (id === null || id === undefined) return '-';
  return id.length <= keep * 2 + 1 ? id : `${id.slice(0, keep)}…${id.slice(-6)}`;
}
