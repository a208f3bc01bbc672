import { packageBuild } from '../../tsup.shared.ts';

// Two entries: the full package and the browser-safe client subpath (`@aitbc/rpc/client`).
export default packageBuild(['src/index.ts', 'src/client/index.ts']);
