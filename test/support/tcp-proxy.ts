// A TCP proxy on loopback that can break the connection to what it fronts (dynalite, a Secrets Manager stand-in) the
// way a network or a service does: `down` refuses and resets connections, `blackhole` accepts and never answers,
// `slow` holds every answer for a while. The service behind keeps its state, so a test can watch recovery.
import { type AddressInfo, createServer, type Server, Socket } from 'node:net';

export type ProxyMode = { kind: 'up' } | { kind: 'down' } | { kind: 'blackhole' } | { kind: 'slow'; delayMs: number };

export interface TcpProxy {
  endpoint: string;
  mode: ProxyMode;
  /** Also cuts every connection open now (a store that dies mid-request). */
  set(mode: ProxyMode): void;
  /** Connections accepted so far. */
  readonly connections: number;
  stop(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let connections = 0;
  const proxy: { mode: ProxyMode } = { mode: { kind: 'up' } };

  const server: Server = createServer((client) => {
    connections++;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    const mode = proxy.mode;
    if (mode.kind === 'down') {
      client.resetAndDestroy();
      return;
    }
    if (mode.kind === 'blackhole') {
      client.resume();
      return;
    }
    client.pause();
    const upstream = new Socket();
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.connect(Number(port), hostname, () => {
      client.on('data', (chunk) => upstream.write(chunk));
      client.resume();
      upstream.on('data', (chunk) => {
        const current = proxy.mode;
        if (current.kind === 'slow') setTimeout(() => client.writable && client.write(chunk), current.delayMs);
        else if (current.kind === 'up') client.write(chunk);
        // down / blackhole since the connection opened: the answer is lost.
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    get mode() {
      return proxy.mode;
    },
    set mode(mode: ProxyMode) {
      proxy.mode = mode;
    },
    set(mode: ProxyMode) {
      proxy.mode = mode;
      if (mode.kind === 'down') for (const socket of open) socket.destroy();
    },
    get connections() {
      return connections;
    },
    async stop() {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
