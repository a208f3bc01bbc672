import { packageBuild } from '../../tsup.shared.ts';

// The platform backend is chosen at install/bundle time through package.json "imports" conditions.
export default packageBuild(['src/index.ts', 'src/backend/node.ts', 'src/backend/web.ts'], { external: ['#backend'] });
