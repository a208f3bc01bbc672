import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/** Vitest global setup: builds the apps once into `dist/` (the tests serve exactly what ships). */
export default async function buildApps(): Promise<void> {
  await build({ configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)), logLevel: 'warn' });
}
