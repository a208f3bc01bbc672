import type { CommandSpec } from '../commandSpec.js';
import { renderBashCompletion, renderZshCompletion } from '../renderCompletion.js';

/** Top-level commands: `completion`, `help`, `version` (help and version are answered by the runner). */
export function topCommands(groups: readonly { name: string; summary: string }[]): CommandSpec[] {
  return [
    {
      group: '',
      name: 'completion',
      summary: 'print a bash or zsh completion script',
      args: [{ name: 'shell', description: 'bash or zsh', choices: ['bash', 'zsh'] }],
      options: [],
      examples: [
        { command: 'source <(aitbc completion bash)', description: 'bash, this shell' },
        { command: 'aitbc completion zsh > ~/.zfunc/_aitbc', description: 'zsh, every new shell' },
      ],
      status: 'wired',
      async handler(ctx) {
        const script =
          ctx.args.shell === 'zsh'
            ? renderZshCompletion(groups, ctx.commands)
            : renderBashCompletion(groups, ctx.commands);
        ctx.io.stdout.write(script);
      },
    },
    {
      group: '',
      name: 'help',
      summary: 'help for a group or command, with examples',
      args: [
        {
          name: 'topic',
          description: 'a group, a top-level command, exit-codes or config',
          required: false,
          choices: [...groups.map((g) => g.name), 'completion', 'help', 'version', 'exit-codes'],
        },
        { name: 'command', description: 'a command of the group', required: false },
      ],
      options: [],
      examples: [
        { command: 'aitbc help client submit', description: 'options and examples of one command' },
        { command: 'aitbc help exit-codes', description: 'the exit codes scripts can rely on' },
      ],
      status: 'wired',
      async handler() {},
    },
    {
      group: '',
      name: 'version',
      summary: 'print the version',
      args: [],
      options: [],
      examples: [{ command: 'aitbc version', description: 'aitbc 0.1.0' }],
      status: 'wired',
      async handler() {},
    },
  ];
}
