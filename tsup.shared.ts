import { defineConfig, type Options } from 'tsup';

/**
 * The build every package uses: ESM + `.d.ts` + source maps for Node 20 / ES2022, one output per
 * entry. Sibling packages stay external (they are dependencies).
 */
export function packageBuild(entry: string[] = ['src/index.ts'], extra: Options = {}): ReturnType<typeof defineConfig> {
  return defineConfig({ entry, format: ['esm'], dts: true, sourcemap: true, clean: true, target: 'es2022', ...extra });
}
