#!/usr/bin/env -S node --import tsx --conditions=@aitbc/source
// The `aitbc-node` command. The package is private and runs from TypeScript sources (like `npm start`):
// tsx is resolved from the repository's node_modules.
import '../src/main.ts';
