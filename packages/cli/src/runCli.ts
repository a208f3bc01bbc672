import { readFileSync } from 'node:fs';
import { AitbcError } from '@aitbc/crypto';
import type { CliIo } from './cliIo.js';
import { COMMANDS, GROUPS } from './commandTable.js';
import { configFileTooOpen, resolveConfig } from './configStore.js';
import { EXIT } from './exitCodes.js';
import { createOutput } from './output.js';
import { type GlobalFlags, parseCommandLine, usageError } from './parseCommandLine.js';
import { describeError, type ErrorReport, renderError, renderErrorJson } from './renderError.js';
import {
  renderCommandHelp,
  renderConfigHelp,
  renderExitCodesHelp,
  renderGlobalHelp,
  renderGroupHelp,
} from './renderHelp.js';

/**
 * The package version (read from package.json, next to both `src/` and `dist/`).
 *
 * @example
 * ```ts
 * import { cliVersion } from '@aitbc/cli';
 * console.log(`aitbc ${cliVersion()}`);
 * ```
 */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/**
 * The help text for a topic (`[]`, `[group]`, `[group, command]`, `exit-codes`, `config`).
 *
 * @example
 * ```ts
 * import { helpText } from '@aitbc/cli';
 * console.log(helpText(['chain', 'head'])); // usage, options and examples of `aitbc chain head`
 * console.log(helpText(['exit-codes']));
 * ```
 */
export function helpText(topic: readonly string[]): string {
  const [first, second] = topic;
  if (first === undefined) return renderGlobalHelp(GROUPS, COMMANDS);
  if (first === 'exit-codes') return renderExitCodesHelp();
  if (first === 'config' && second === undefined)
    return `${renderGroupHelp(GROUPS.find((g) => g.name === 'config')!, COMMANDS)}\n${renderConfigHelp()}`;
  const top = COMMANDS.find((c) => c.group === '' && c.name === first);
  if (top !== undefined && second === undefined) return renderCommandHelp(top);
  const group = GROUPS.find((g) => g.name === first);
  if (group === undefined)
    throw usageError(`no help for "${topic.join(' ')}"`, 'see `aitbc help`', 'CLI_USAGE_UNKNOWN_COMMAND');
  if (second === undefined) return renderGroupHelp(group, COMMANDS);
  const spec = COMMANDS.find((c) => c.group === first && c.name === second);
  if (spec === undefined)
    throw usageError(`no help for "${topic.join(' ')}"`, `see \`aitbc help ${first}\``, 'CLI_USAGE_UNKNOWN_COMMAND');
  return renderCommandHelp(spec);
}

function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = Number(value.replace(/s$/, ''));
  if (!Number.isFinite(s) || s <= 0 || s > 86_400 * 7)
    throw usageError(
      `--timeout must be a number of seconds in (0, 604800], got "${value}"`,
      'for example --timeout 30',
    );
  return Math.round(s * 1000);
}

/**
 * Runs the `aitbc` command line in-process: `argv` without the node and script paths. Results go to
 * `io.stdout`, notes, progress and errors to `io.stderr`. Resolves the exit code (see {@link EXIT});
 * never throws and never calls `process.exit`.
 *
 * @example
 * ```ts
 * const code = await runCli(['chain', 'head', '--json'], { stdout: process.stdout, stderr: process.stderr, env: process.env });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let globals: GlobalFlags | undefined;
  let urls: Readonly<Record<string, string | undefined>> = {};
  const report = (r: ErrorReport) => {
    io.stderr.write(globals?.json === true || argv.includes('--json') ? renderErrorJson(r) : renderError(r));
    return r.exitCode;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new AbortController();
  const interrupted = io.signal ?? new AbortController().signal;
  try {
    const parsed = parseCommandLine(argv, GROUPS, COMMANDS);
    globals = parsed.globals;
    if (parsed.kind === 'version') {
      io.stdout.write(`${parsed.globals.json ? JSON.stringify({ version: cliVersion() }) : `aitbc ${cliVersion()}`}\n`);
      return EXIT.ok;
    }
    if (parsed.kind === 'help') {
      const text = helpText(parsed.topic);
      if (parsed.usageError !== undefined) {
        io.stderr.write(text);
        return report(describeError(parsed.usageError));
      }
      io.stdout.write(text);
      return EXIT.ok;
    }
    const { spec, input } = parsed;
    if (spec.group === '' && spec.name === 'help') {
      io.stdout.write(helpText([input.args.topic, input.args.command].filter((t): t is string => t !== undefined)));
      return EXIT.ok;
    }
    if (spec.group === '' && spec.name === 'version') {
      io.stdout.write(`${parsed.globals.json ? JSON.stringify({ version: cliVersion() }) : `aitbc ${cliVersion()}`}\n`);
      return EXIT.ok;
    }
    const timeoutMs = parseTimeout(parsed.globals.timeout);
    const config = resolveConfig({
      env: io.env,
      flags: parsed.globals.strings,
      ...(parsed.globals.profile !== undefined ? { profile: parsed.globals.profile } : {}),
      allowNewProfile: spec.group === 'config',
    });
    urls = config.values;
    const out = createOutput(io, { json: parsed.globals.json });
    if (configFileTooOpen(config.path))
      out.note(`warning: ${config.path} can be read by other users and holds API keys: chmod 600 it`);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => timeout.abort(), timeoutMs);
      timer.unref?.();
    }
    const signal = AbortSignal.any([interrupted, timeout.signal]);
    if (spec.status === 'waiting')
      throw new AitbcError('CLI_NOT_AVAILABLE', `\`aitbc ${spec.group} ${spec.name}\` is not available yet`, {
        details: { hint: `it needs ${spec.waitingFor ?? 'an SDK API'}, which has not landed` },
      });
    const run = spec.handler({ ...input, out, config, io, signal, timeoutMs, commands: COMMANDS });
    // Ctrl-C or --timeout ends the run even if the pending call ignores the signal.
    const stopped = new Promise<never>((_, reject) => {
      const fire = () =>
        reject(
          new AitbcError(
            interrupted.aborted ? 'CLI_INTERRUPTED' : 'CLI_TIMEOUT',
            interrupted.aborted ? 'interrupted' : `gave up after --timeout ${parsed.globals.timeout}`,
          ),
        );
      if (signal.aborted) fire();
      else signal.addEventListener('abort', fire, { once: true });
    });
    run.catch(() => {});
    stopped.catch(() => {});
    if (spec.ownsInterrupt === true) {
      await run;
      if (interrupted.aborted) throw new AitbcError('CLI_INTERRUPTED', 'interrupted');
    } else await Promise.race([run, stopped]);
    return EXIT.ok;
  } catch (error) {
    let e = error;
    if (interrupted.aborted) e = new AitbcError('CLI_INTERRUPTED', 'interrupted');
    else if (timeout.signal.aborted)
      e = new AitbcError('CLI_TIMEOUT', `gave up after --timeout ${globals?.timeout ?? ''}s`.replace('ss', 's'), {
        cause: error,
      });
    return report(describeError(e, urls));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
