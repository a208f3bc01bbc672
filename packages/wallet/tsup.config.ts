import { packageBuild } from '../../tsup.shared.ts';

// Two entries: the browser-safe library and the Node-only daemon (`@aitbc/wallet/daemon`).
export default packageBuild(['src/index.ts', 'src/daemon/index.ts']);
