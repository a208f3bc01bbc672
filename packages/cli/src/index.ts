/**
 * The `aitbc` command line.
 * @packageDocumentation
 */

/** The command's name. */
export const COMMAND_NAME = 'aitbc';
