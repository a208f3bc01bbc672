import type { CommandSpec, GroupSpec } from './commandSpec.js';
import { usageLine } from './parseCommandLine.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');

/**
 * The README's command reference, generated from the command table: one table per group with each
 * command's usage, summary, status and first example. `test/readme.test.ts` checks the README holds
 * exactly this text between `<!-- commands:start -->` and `<!-- commands:end -->`; regenerate it with
 * `npm run readme -w packages/cli`.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { COMMANDS, GROUPS, renderCommandReference } from '@aitbc/cli';
 * writeFileSync('commands.md', renderCommandReference(GROUPS, COMMANDS));
 * ```
 */
export function renderCommandReference(groups: readonly GroupSpec[], commands: readonly CommandSpec[]): string {
  const out: string[] = [];
  const section = (title: string, rows: readonly CommandSpec[]) => {
    out.push(`### ${title}`, '', '| command | what it does | status | example |', '|---|---|---|---|');
    for (const c of rows) {
      const status = c.status === 'wired' ? 'wired' : `waiting: ${c.waitingFor ?? 'SDK'}`;
      const example = c.examples[0] === undefined ? '' : `\`${cell(c.examples[0].command)}\``;
      out.push(`| \`${cell(usageLine(c))}\` | ${cell(c.summary)} | ${cell(status)} | ${example} |`);
    }
    out.push('');
  };
  for (const g of groups)
    section(
      `\`aitbc ${g.name}\` — ${g.summary}`,
      commands.filter((c) => c.group === g.name),
    );
  section(
    'Other commands',
    commands.filter((c) => c.group === ''),
  );
  return out.join('\n');
}
