/**
 * A TCP forwarder on 127.0.0.1 that a test can close and open: a network partition between two node
 * processes, injected by the test (never by a switch in the node). Closed, it cuts every forwarded
 * connection and drops new ones as they arrive; open, it forwards to the target port.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** A running {@link startTcpGate}. */
export interface TcpGate {
  /** `ws://127.0.0.1:<port>`: dial this instead of the target. */
  readonly url: string;
  open(): void;
  /** Cuts the forwarded connections and drops new ones. */
  close(): void;
  stop(): Promise<void>;
}

/** Starts a gate to `127.0.0.1:targetPort`, closed or open. */
export async function startTcpGate(targetPort: number, open = false): Promise<TcpGate> {
  let isOpen = open;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!isOpen) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const cut = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    url: `ws://127.0.0.1:${port}`,
    open() {
      isOpen = true;
    },
    close() {
      isOpen = false;
      cut();
    },
    async stop() {
      isOpen = false;
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
