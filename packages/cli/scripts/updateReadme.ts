/** Rewrites the command reference in README.md from the command table (`npm run readme -w packages/cli`). */
import { readFileSync, writeFileSync } from 'node:fs';
import { COMMANDS, GROUPS, renderCommandReference } from '../src/index.js';

const path = new URL('../README.md', import.meta.url);
const text = readFileSync(path, 'utf8');
const start = '<!-- commands:start -->\n';
const end = '<!-- commands:end -->';
const a = text.indexOf(start);
const b = text.indexOf(end);
if (a < 0 || b < a) throw new Error('README.md has no <!-- commands:start --> … <!-- commands:end --> section');
writeFileSync(path, `${text.slice(0, a + start.length)}${renderCommandReference(GROUPS, COMMANDS)}${text.slice(b)}`);
