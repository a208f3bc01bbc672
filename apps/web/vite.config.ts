import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * Two pages (`/explorer/`, `/marketplace/`) and a landing page, built into `dist/` with hashed
 * assets under `dist/assets/`. Sibling packages are bundled from source (`@aitbc/source`), so the
 * build needs no `npm run build` of the packages first.
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  logLevel: 'warn',
  resolve: { conditions: ['@aitbc/source', ...defaultClientConditions] },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    rollupOptions: {
      // @scure/base carries a /* @__PURE__ */ comment rollup cannot place; harmless, and not ours.
      onwarn(warning, warn) {
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
      // The SDK and the @aitbc packages it pulls in: one shared, cacheable chunk for both apps.
      output: {
        manualChunks: (id) => (id.includes('node_modules') || id.includes('/packages/') ? 'sdk' : undefined),
      },
      input: {
        index: here('index.html'),
        explorer: here('explorer/index.html'),
        marketplace: here('marketplace/index.html'),
      },
    },
  },
});
