#!/usr/bin/env node
/**
 * The `aitbc` executable: runs {@link runCli} on the process's argv and streams, maps Ctrl-C to an
 * abort (exit 130) and exits with the code it returns.
 * @packageDocumentation
 */
import { runCli } from './runCli.js';

const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort());
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0); // `aitbc … | head`: the reader left
});

const readStdin = async (): Promise<string> => {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of process.stdin) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    if (text.length > 16 * 1024 * 1024) throw new Error('standard input is larger than 16 MiB');
  }
  return text + decoder.decode();
};

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: interrupt.signal,
  readStdin,
});
process.exitCode = code;
// Subscriptions and keep-alive sockets must not hold the process open once the command is done.
setTimeout(() => process.exit(code), 200).unref();
