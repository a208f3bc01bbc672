/**
 * Child process of atomicWrite.e2e.ts: rewrites one keystore-sized-and-larger file forever through
 * writeFileAtomic, alternating two versions, until it is killed.
 */
import { writeFileAtomic } from '../../src/daemon/index.js';

const [dir, name] = process.argv.slice(2) as [string, string];
const version = (n: number) => JSON.stringify({ version: n % 2, pad: String(n % 2).repeat(512 * 1024) });
let n = 0;
process.stdout.write('ready\n');
for (;;) {
  await writeFileAtomic(dir, name, version(n++));
}
