#!/usr/bin/env node
// Scaffolds packages/<dir> with the house package shape. Usage: node scripts/newPackage.mjs <dir> "<description>" [dep ...]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, description, ...deps] = process.argv.slice(2);
if (!dir || !description) {
  console.error('usage: newPackage.mjs <dir> "<description>" [@aitbc/dep ...]');
  process.exit(2);
}
const root = join('packages', dir);
if (existsSync(join(root, 'package.json'))) {
  console.error(`${root} exists`);
  process.exit(1);
}
for (const sub of ['src', 'test', 'bench']) mkdirSync(join(root, sub), { recursive: true });
const pkg = {
  name: `@aitbc/${dir}`,
  version: '0.1.0',
  description,
  license: 'Apache-2.0',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20.19' },
  exports: {
    '.': {
      '@aitbc/source': './src/index.ts',
      types: './dist/index.d.ts',
      import: './dist/index.js',
    },
    './package.json': './package.json',
  },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  files: ['dist', 'src', 'README.md'],
  scripts: { build: 'tsup' },
  dependencies: Object.fromEntries(deps.map((d) => [d, '0.1.0'])),
  publishConfig: { access: 'public' },
};
writeFileSync(join(root, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
writeFileSync(
  join(root, 'tsup.config.ts'),
  "import { packageBuild } from '../../tsup.shared.ts';\n\nexport default packageBuild();\n",
);
writeFileSync(
  join(root, 'tsconfig.json'),
  `{\n  "extends": "../../tsconfig.base.json",\n  "compilerOptions": { "rootDir": "src", "outDir": "dist" },\n  "include": ["src"]\n}\n`,
);
writeFileSync(
  join(root, 'vitest.config.ts'),
  `import { packageProject } from '../../vitest.shared.ts';\n\nexport default packageProject('${dir}');\n`,
);
writeFileSync(join(root, 'src', 'index.ts'), `/**\n * ${description}\n * @packageDocumentation\n */\n`);
writeFileSync(join(root, 'README.md'), `# @aitbc/${dir}\n\n${description}\n`);
console.log(`created ${root}`);
