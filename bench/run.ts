/**
 * `npm run bench`: runs every `packages/* /bench/*.bench.ts` (and `reference-node/bench`) script in its
 * own process, one after another so they do not compete for the 2 cores, and prints one table.
 * Pass substrings to run a subset: `npm run bench -- crypto receipts`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchResult, formatTable, RESULT_MARKER } from './harness.ts';

const root = join(import.meta.dirname, '..');
const filters = process.argv.slice(2);
const dirs = [
  ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'bench')),
  join(root, 'reference-node', 'bench'),
];
const scripts = dirs
  .filter((d) => existsSync(d))
  .flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith('.bench.ts'))
      .map((f) => join(d, f)),
  )
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));

const rows: BenchResult[] = [];
let failed = 0;
for (const script of scripts) {
  const rel = script.slice(root.length + 1);
  process.stderr.write(`running ${rel}\n`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@aitbc/source', script], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) {
    failed++;
    process.stderr.write(`  ${rel} exited with ${res.status}\n`);
  }
  for (const line of (res.stdout ?? '').split('\n')) {
    if (line.startsWith(RESULT_MARKER)) rows.push(JSON.parse(line.slice(RESULT_MARKER.length)) as BenchResult);
  }
}
console.log(formatTable(rows));
if (failed > 0) process.exit(1);
