import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeReadmeExamples } from '../../../test-support/readmeExamples.ts';
import { commandPath } from '../src/commandSpec.js';
import { COMMANDS, GROUPS } from '../src/commandTable.js';
import { CONFIG_KEYS } from '../src/configStore.js';
import { EXIT_CODE_TABLE } from '../src/exitCodes.js';
import { renderCommandReference } from '../src/renderCommandReference.js';

const dir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describeReadmeExamples(dir);

describe('README', () => {
  it('holds the command reference generated from the table (run `npm run readme -w packages/cli`)', () => {
    const section = readme.split('<!-- commands:start -->\n')[1]?.split('<!-- commands:end -->')[0];
    expect(section).toBe(renderCommandReference(GROUPS, COMMANDS));
    for (const c of COMMANDS) expect(readme).toContain(`| \`aitbc ${commandPath(c)}`);
  });

  it('documents every exit code, config key and environment variable', () => {
    for (const r of EXIT_CODE_TABLE) expect(readme).toContain(`| ${r.code} | ${r.meaning} |`);
    for (const k of CONFIG_KEYS)
      expect(readme).toMatch(new RegExp(`\\| \`${k.key}\` \\| \`--${k.flag}\` \\| \`${k.env}\` \\|`));
  });

  it('names the status of every waiting command', () => {
    for (const c of COMMANDS.filter((x) => x.status === 'waiting')) expect(readme).toContain(`\`${commandPath(c)}\``);
  });
});
