// A TCP proxy in front of a storage server, for faults the server itself cannot make: every open
// connection reset (RST) at once, and a new target after the real server was restarted elsewhere.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Resets every open connection (both sides). Returns how many were open. */
  resetAll(): number;
  setTarget(port: number): void;
  /** Bytes forwarded client → server so far. */
  bytesUp(): number;
  stop(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  let up = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    const drop = () => {
      open.delete(client);
      open.delete(upstream);
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.resetAndDestroy();
    };
    client.on('data', (chunk: Buffer) => (up += chunk.length));
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    resetAll() {
      const n = open.size;
      for (const s of [...open]) if (!s.destroyed) s.resetAndDestroy();
      open.clear();
      return n / 2;
    },
    setTarget(p) {
      target = p;
    },
    bytesUp: () => up,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
