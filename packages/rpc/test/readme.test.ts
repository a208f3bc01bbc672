import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeExamples, runReadmeExample } from '../../../test-support/readmeExamples.ts';

const dir = join(import.meta.dirname, '..');
const examples = readmeExamples(dir);

describe('README examples run', () => {
  it('has at least one runnable example', () => {
    expect(examples.length).toBeGreaterThan(0);
  });
  examples.forEach((code, i) => {
    it(`example ${i + 1}`, async () => {
      await runReadmeExample(dir, code, i);
    });
  });
});
