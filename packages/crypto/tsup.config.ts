import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/backend/node.ts', 'src/backend/web.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // The platform backend is chosen at install/bundle time through package.json "imports" conditions.
  external: ['#backend'],
});
