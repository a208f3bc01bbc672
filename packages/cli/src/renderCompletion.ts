import type { CommandSpec, GroupSpec, OptionSpec } from './commandSpec.js';
import { GLOBAL_OPTIONS } from './parseCommandLine.js';

const flags = (options: readonly OptionSpec[]) => options.map((o) => `--${o.name}`).join(' ');
const shellWord = (s: string) => s.replace(/[^A-Za-z0-9_.:/@+-]/g, '');
const zshDesc = (s: string) => s.replace(/[':\\[\]]/g, '').replace(/\s+/g, ' ');

function topWords(groups: readonly GroupSpec[], commands: readonly CommandSpec[]): string[] {
  return [...groups.map((g) => g.name), ...commands.filter((c) => c.group === '').map((c) => c.name)];
}

function stringOptions(commands: readonly CommandSpec[]): string[] {
  const all = [...GLOBAL_OPTIONS, ...commands.flatMap((c) => c.options)].filter((o) => o.type === 'string');
  return [...new Set(all.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]))];
}

function valueCases(commands: readonly CommandSpec[], bash: boolean): string[] {
  const seen = new Map<string, OptionSpec>();
  for (const o of [...GLOBAL_OPTIONS, ...commands.flatMap((c) => c.options)])
    if (!seen.has(o.name)) seen.set(o.name, o);
  const out: string[] = [];
  for (const o of seen.values()) {
    if (o.choices !== undefined)
      out.push(
        bash
          ? `    --${o.name}) COMPREPLY=( $(compgen -W "${o.choices.map(shellWord).join(' ')}" -- "$cur") ); return ;;`
          : `    --${o.name}) compadd -- ${o.choices.map(shellWord).join(' ')}; return ;;`,
      );
    else if (o.complete === 'file')
      out.push(
        bash
          ? `    --${o.name}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;`
          : `    --${o.name}) _files; return ;;`,
      );
  }
  return out;
}

/**
 * The bash completion script, generated from the command table (`source <(aitbc completion bash)`).
 *
 * @example
 * ```ts
 * import { COMMANDS, GROUPS, renderBashCompletion } from '@aitbc/cli';
 * process.stdout.write(renderBashCompletion(GROUPS, COMMANDS)); // what `aitbc completion bash` prints
 * ```
 */
export function renderBashCompletion(groups: readonly GroupSpec[], commands: readonly CommandSpec[]): string {
  const groupCases = groups.map(
    (g) =>
      `      ${g.name}) COMPREPLY=( $(compgen -W "${commands
        .filter((c) => c.group === g.name)
        .map((c) => c.name)
        .join(' ')}" -- "$cur") ); return ;;`,
  );
  const topArgCases = commands
    .filter((c) => c.group === '' && c.args[0]?.choices !== undefined)
    .map(
      (c) =>
        `      ${c.name}) COMPREPLY=( $(compgen -W "${c.args[0]!.choices!.map(shellWord).join(' ')}" -- "$cur") ); return ;;`,
    );
  const optionCases = commands.map(
    (c) => `    "${c.group === '' ? c.name : `${c.group} ${c.name}`}") opts="$opts ${flags(c.options)}" ;;`,
  );
  return `# bash completion for aitbc — generated from the command table by \`aitbc completion bash\`.
# Install: source <(aitbc completion bash)   (or save it under ~/.local/share/bash-completion/completions/aitbc)
_aitbc() {
  local cur prev group="" cmd="" i w skip=0
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local string_opts=" ${stringOptions(commands).join(' ')} "
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      -*) [[ "$string_opts" == *" $w "* ]] && skip=1; continue ;;
    esac
    if [[ -z "$group" ]]; then group="$w"; elif [[ -z "$cmd" ]]; then cmd="$w"; fi
  done
  case "$prev" in
${valueCases(commands, true).join('\n')}
  esac
  if [[ "$cur" != -* ]]; then
    if [[ -z "$group" ]]; then
      COMPREPLY=( $(compgen -W "${topWords(groups, commands).join(' ')}" -- "$cur") ); return
    fi
    if [[ -z "$cmd" ]]; then
      case "$group" in
${groupCases.join('\n')}
${topArgCases.join('\n')}
      esac
    fi
  fi
  local opts="${flags(GLOBAL_OPTIONS)}"
  local key="$group"
  [[ -n "$cmd" ]] && key="$group $cmd"
  case "$key" in
${optionCases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$opts" -- "$cur") ); fi
}
complete -o default -F _aitbc aitbc
`;
}

/**
 * The zsh completion script, generated from the command table (`source <(aitbc completion zsh)`).
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { COMMANDS, GROUPS, renderZshCompletion } from '@aitbc/cli';
 * writeFileSync(`${process.env.HOME}/.zfunc/_aitbc`, renderZshCompletion(GROUPS, COMMANDS));
 * ```
 */
export function renderZshCompletion(groups: readonly GroupSpec[], commands: readonly CommandSpec[]): string {
  const describe = (pairs: ReadonlyArray<readonly [string, string]>) =>
    pairs.map(([n, d]) => `'${n}:${zshDesc(d)}'`).join(' ');
  const top = describe([
    ...groups.map((g) => [g.name, g.summary] as const),
    ...commands.filter((c) => c.group === '').map((c) => [c.name, c.summary] as const),
  ]);
  const groupCases = groups.map(
    (g) =>
      `        ${g.name}) local -a subs; subs=(${describe(commands.filter((c) => c.group === g.name).map((c) => [c.name, c.summary] as const))}); _describe -t commands 'aitbc ${g.name} command' subs; return ;;`,
  );
  const topArgCases = commands
    .filter((c) => c.group === '' && c.args[0]?.choices !== undefined)
    .map((c) => `        ${c.name}) compadd -- ${c.args[0]!.choices!.map(shellWord).join(' ')}; return ;;`);
  const optDescribe = (options: readonly OptionSpec[]) =>
    options.map((o) => `'--${o.name}:${zshDesc(o.description)}'`).join(' ');
  const optionCases = commands.map(
    (c) => `    "${c.group === '' ? c.name : `${c.group} ${c.name}`}") opts+=(${optDescribe(c.options)}) ;;`,
  );
  return `#compdef aitbc
# zsh completion for aitbc — generated from the command table by \`aitbc completion zsh\`.
# Install: source <(aitbc completion zsh)   (after compinit), or save it as _aitbc on your $fpath
_aitbc() {
  local group="" cmd="" w skip=0 i
  local cur="\${words[CURRENT]}" prev="\${words[CURRENT-1]}"
  local -a string_opts; string_opts=(${stringOptions(commands).join(' ')})
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    if ((skip)); then skip=0; continue; fi
    if [[ "$w" == -* ]]; then (( \${string_opts[(Ie)$w]} )) && skip=1; continue; fi
    if [[ -z "$group" ]]; then group="$w"; elif [[ -z "$cmd" ]]; then cmd="$w"; fi
  done
  case "$prev" in
${valueCases(commands, false).join('\n')}
  esac
  if [[ "$cur" != -* ]]; then
    if [[ -z "$group" ]]; then
      local -a tops; tops=(${top}); _describe -t commands 'aitbc command' tops; return
    fi
    if [[ -z "$cmd" ]]; then
      case "$group" in
${groupCases.join('\n')}
${topArgCases.join('\n')}
      esac
    fi
  fi
  local -a opts; opts=(${optDescribe(GLOBAL_OPTIONS)})
  local key="$group"
  [[ -n "$cmd" ]] && key="$group $cmd"
  case "$key" in
${optionCases.join('\n')}
  esac
  _describe -t options 'option' opts
}
if [[ "\${funcstack[1]}" == "_aitbc" ]]; then _aitbc "$@"; else compdef _aitbc aitbc; fi
`;
}
