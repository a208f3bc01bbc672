import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../../test-support/readmeExamples.js';

// MINER.md is the miner-agent section of the package README (merged into README.md by the lead);
// its runnable ```ts examples run here the way test/readme.test.ts runs README.md's.
const packageDir = join(import.meta.dirname, '..', '..');
const examples = [...readFileSync(join(packageDir, 'MINER.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map(
  (m) => m[1]!,
);

describe('MINER.md examples run', () => {
  it('has a runnable example', () => {
    expect(examples.length).toBeGreaterThan(0);
  });
  examples.forEach((code, i) => {
    it(`example ${i + 1}`, async () => {
      await runReadmeExample(packageDir, code, 100 + i);
    });
  });
});
