/**
 * Executable docs: runs the ```ts code blocks of a package README as ES modules, so examples cannot
 * rot. Blocks fenced as ```typescript are illustrative (they need a running server or secrets) and are
 * not run. Each block is written under the package's node_modules/.cache (so `@aitbc/*` imports
 * resolve like the package's own code) and imported.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The runnable (```ts) blocks of a README. */
export function readmeExamples(packageDir: string): string[] {
  const text = readFileSync(join(packageDir, 'README.md'), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Runs one example block; resolves when its top-level code finished. */
export async function runReadmeExample(packageDir: string, code: string, index: number): Promise<void> {
  const dir = join(packageDir, 'node_modules', '.cache', 'readme-examples');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `example-${index}-${process.pid}.ts`);
  writeFileSync(file, code);
  try {
    await import(pathToFileURL(file).href);
  } finally {
    rmSync(file, { force: true });
  }
}

/** Registers one test per runnable README example of the package at `packageDir`. */
export function describeReadmeExamples(packageDir: string): void {
  const examples = readmeExamples(packageDir);
  describe('README examples run', () => {
    it('has at least one runnable example', () => {
      expect(examples.length).toBeGreaterThan(0);
    });
    examples.forEach((code, i) => {
      it(`example ${i + 1}`, async () => {
        await runReadmeExample(packageDir, code, i);
      });
    });
  });
}
