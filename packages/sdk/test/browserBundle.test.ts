import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('browser bundle of the main entry', () => {
  it('bundles src/index.ts for the browser with no Node built-in, within 60 kB min+gzip', async () => {
    const result = await build({
      entryPoints: [join(root, 'src/index.ts')],
      absWorkingDir: root,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      minify: true,
      write: false,
      metafile: true,
      // resolve sibling packages from source, as their published `browser`/`default` entries would
      conditions: ['@aitbc/source'],
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    // no Node built-in, and no server package, is pulled in
    expect(inputs.filter((f) => f.startsWith('node:') || /(^|\/)(fastify|ws|pino|prom-client)\//.test(f))).toEqual([]);
    expect(inputs.some((f) => f.includes('crypto/src/backend/node.ts'))).toBe(false);
    const output = Object.values(result.metafile.outputs)[0]!;
    expect(output.imports).toEqual([]);
    const js = result.outputFiles[0]!.contents;
    expect(new TextDecoder().decode(js)).not.toMatch(/from\s*["']node:|require\(["']node:/);
    const gzipped = gzipSync(js).length;
    console.log(
      `@aitbc/sdk browser bundle: ${(js.length / 1024).toFixed(1)} kB min, ${(gzipped / 1024).toFixed(1)} kB min+gzip`,
    );
    expect(gzipped).toBeLessThanOrEqual(60 * 1024);
  });
});
