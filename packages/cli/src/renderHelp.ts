import { type CommandSpec, commandPath, type GroupSpec, type OptionSpec } from './commandSpec.js';
import { CONFIG_KEYS } from './configStore.js';
import { EXIT_CODE_TABLE } from './exitCodes.js';
import { GLOBAL_OPTIONS, usageLine } from './parseCommandLine.js';

function optionLabel(o: OptionSpec): string {
  const name = `${o.short === undefined ? '    ' : `-${o.short}, `}--${o.name}`;
  return o.type === 'boolean' ? name : `${name} ${o.valueName ?? '<value>'}`;
}

function twoColumns(rows: ReadonlyArray<readonly [string, string]>, indent = '  '): string {
  const width = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(width)}  ${b}`.trimEnd()).join('\n');
}

/** `aitbc help`: every group with its commands, the global options, exit codes and config. */
export function renderGlobalHelp(groups: readonly GroupSpec[], commands: readonly CommandSpec[]): string {
  const sections = [
    'aitbc — the AITBC command line: jobs, miners, wallets, the chain, the marketplace.',
    '',
    'Usage: aitbc <group> <command> [args] [options]',
    '       aitbc help <group> [command]     help with examples',
    '',
  ];
  for (const g of groups) {
    sections.push(`${g.name} — ${g.summary}`);
    sections.push(twoColumns(commands.filter((c) => c.group === g.name).map((c) => [c.name, c.summary])));
    sections.push('');
  }
  sections.push('Other commands');
  sections.push(twoColumns(commands.filter((c) => c.group === '').map((c) => [c.name, c.summary])));
  sections.push('');
  sections.push('Global options');
  sections.push(twoColumns(GLOBAL_OPTIONS.map((o) => [optionLabel(o), o.description])));
  sections.push('');
  sections.push(
    `Exit codes: ${EXIT_CODE_TABLE.map((r) => `${r.code} ${r.meaning.split(' (')[0]!.split(',')[0]}`).join('; ')} (\`aitbc help exit-codes\`).`,
  );
  sections.push(
    'Config: ~/.config/aitbc/config.json or $AITBC_CONFIG, profiles, AITBC_* overrides (`aitbc help config`).',
  );
  return `${sections.join('\n')}\n`;
}

/** `aitbc help <group>`. */
export function renderGroupHelp(group: GroupSpec, commands: readonly CommandSpec[]): string {
  const own = commands.filter((c) => c.group === group.name);
  const lines = [
    `aitbc ${group.name} — ${group.summary}`,
    '',
    'Commands',
    twoColumns(own.map((c) => [c.name, c.summary])),
    '',
  ];
  lines.push('Usage');
  for (const c of own) lines.push(`  ${usageLine(c)}`);
  lines.push('', `Run \`aitbc help ${group.name} <command>\` for options and examples.`);
  return `${lines.join('\n')}\n`;
}

/** `aitbc help <group> <command>` (or `--help`): usage, arguments, options, examples, status. */
export function renderCommandHelp(spec: CommandSpec): string {
  const lines = [`aitbc ${commandPath(spec)} — ${spec.summary}`, '', `Usage: ${usageLine(spec)}`];
  if (spec.description !== undefined) lines.push('', spec.description);
  if (spec.args.length > 0) {
    lines.push('', 'Arguments');
    lines.push(
      twoColumns(spec.args.map((a) => [`<${a.name}>`, `${a.description}${a.required === false ? ' (optional)' : ''}`])),
    );
  }
  if (spec.options.length > 0) {
    lines.push('', 'Options');
    lines.push(
      twoColumns(
        spec.options.map((o) => [
          optionLabel(o),
          `${o.description}${o.required ? ' (required)' : ''}${o.choices ? ` [${o.choices.join('|')}]` : ''}`,
        ]),
      ),
    );
  }
  lines.push(
    '',
    `Global options: ${GLOBAL_OPTIONS.filter((o) => o.name !== 'help' && o.name !== 'version')
      .map((o) => `--${o.name}`)
      .join(', ')} (see \`aitbc help\`).`,
  );
  if (spec.examples.length > 0) {
    lines.push('', 'Examples');
    for (const e of spec.examples) lines.push(`  # ${e.description}`, `  ${e.command}`);
  }
  if (spec.status === 'waiting')
    lines.push(
      '',
      `Status: waiting for ${spec.waitingFor ?? 'an SDK API'}; it exits 1 with CLI_NOT_AVAILABLE until then.`,
    );
  return `${lines.join('\n')}\n`;
}

/** `aitbc help exit-codes`. */
export function renderExitCodesHelp(): string {
  return `Exit codes\n${twoColumns(EXIT_CODE_TABLE.map((r) => [String(r.code), r.meaning]))}\n`;
}

/** `aitbc help config`: the file, profiles, keys and overrides. */
export function renderConfigHelp(): string {
  const lines = [
    'Config',
    '',
    'File: $AITBC_CONFIG, else $XDG_CONFIG_HOME/aitbc/config.json, else ~/.config/aitbc/config.json',
    '(written with mode 0600: it holds API keys). Shape: {"defaultProfile": "default", "profiles": {"<name>": {...}}}.',
    'Profile: --profile, else AITBC_PROFILE, else defaultProfile, else "default".',
    'Each value: the flag, else the environment variable, else the profile, else the default.',
    '',
    twoColumns(
      CONFIG_KEYS.map((k) => [
        k.key,
        `--${k.flag}  ${k.env}  ${k.description}${k.default ? ` (default ${k.default})` : ''}`,
      ]),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
