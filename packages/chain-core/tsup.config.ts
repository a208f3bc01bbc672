import { packageBuild } from '../../tsup.shared.ts';

// The state tree's SHA-256 is chosen at install/bundle time through package.json "imports" conditions.
export default packageBuild(
  ['src/index.ts', 'src/testing/index.ts', 'src/stateTree/hasher/node.ts', 'src/stateTree/hasher/web.ts'],
  { external: ['vitest', '#hasher'] },
);
