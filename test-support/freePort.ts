import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: for a process under test that must be given
 * a fixed port (to be restarted on the same one). Tests that only need a server use port 0.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * A random base for a block of fixed ports (`base` … `base + span - 1`), all below Linux's ephemeral
 * range (32768–60999 by default): a port chosen inside it can be taken at any moment as the local port
 * of an outgoing connection (a test's own HTTP clients, a node dialing its peers), which made a node of
 * a multi-process network fail to start with EADDRINUSE. Multiples of 10 from 20,000.
 */
export function portBlockBase(span = 100): number {
  const slots = Math.floor((32_768 - span - 20_000) / 10);
  return 20_000 + Math.floor(Math.random() * slots) * 10;
}
