/**
 * The `aitbc-node` process entry point: runs the command line and exits with its code.
 * @packageDocumentation
 */
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2));
process.exit(code);
