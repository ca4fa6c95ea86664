import { createServer, type Server } from 'node:net';

// A TCP listener on the host's loopback that build steps try to reach (issue 19, point 6): a step
// on the host network reaches it, a step kept offline (`RUN --network=none`) does not.

export interface NetProbe {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startNetProbe(): Promise<NetProbe> {
  let n = 0;
  const server: Server = createServer((s) => {
    n++;
    // The step closes at once: a reset is its way of saying goodbye.
    s.on('error', () => {});
    s.end('probe\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { port, connections: () => n, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Two runtime steps for the echo-python example: one that asked for the network, one that did not.
 * Each writes whether it reached the probe to /opt/netcheck/NAME (`reached` or `unreachable`).
 */
export function stepNetworkSteps(port: number): string {
  const probe = (file: string) =>
    `python3 -c "import socket, os; s = socket.socket(); s.settimeout(2); r = 'reached' if s.connect_ex(('127.0.0.1', ${port})) == 0 else 'unreachable'; os.makedirs('/opt/netcheck', exist_ok=True); open('/opt/netcheck/${file}', 'w').write(r)"`;
  return `\nsteps:\n  - name: asked for the network\n    stage: runtime\n    network: true\n    run: ${JSON.stringify(probe('online'))}\n  - name: asked for none\n    stage: runtime\n    run: ${JSON.stringify(probe('offline'))}\n`;
}
