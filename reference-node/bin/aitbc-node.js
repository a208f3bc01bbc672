#!/usr/bin/env -S node --import tsx --conditions=@aitbc/source
// The aitbc-node command. The package is private and runs from TypeScript sources (like npm start);
// tsx is resolved from the node_modules of the repository.
import '../src/main.ts';
