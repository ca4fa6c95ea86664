import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A reverse proxy on 127.0.0.1 in front of a test registry that injects faults on request:
// a 503 for one manifest PUT (a registry failing partway through a publish), or blob uploads that
// are accepted and never answered (a stalled push). Everything else passes through unchanged.

export interface FaultProxy {
  host: string;
  /** Answer 503 to `PUT /v2/<repo>/manifests/<tag>` for this tag (null: no fault). */
  failManifestTag: string | null;
  /** Hold blob uploads open without ever answering. */
  stallUploads: boolean;
  /** Requests seen, as "METHOD path". */
  seen: string[];
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const [uhost, uport] = upstream.split(':');
  const held: http.ServerResponse[] = [];
  const state: Omit<FaultProxy, 'host' | 'close'> = { failManifestTag: null, stallUploads: false, seen: [] };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    state.seen.push(`${req.method} ${url}`);
    if (state.failManifestTag && req.method === 'PUT' && url.endsWith(`/manifests/${state.failManifestTag}`)) {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}');
      return;
    }
    if (state.stallUploads && /\/blobs\/uploads\//.test(url) && (req.method === 'PATCH' || req.method === 'PUT')) {
      req.resume();
      held.push(res);
      return;
    }
    const up = http.request({ host: uhost, port: Number(uport), method: req.method, path: url, headers: req.headers }, (ur) => {
      // Location headers name the upstream: rewrite them to the proxy, as a real front end would.
      const headers = { ...ur.headers };
      if (typeof headers.location === 'string') headers.location = headers.location.replace(`//${upstream}`, `//${host}`);
      res.writeHead(ur.statusCode ?? 502, headers);
      ur.pipe(res);
    });
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    host,
    close: async () => {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** A TCP server that accepts connections and never says a word: a registry that hangs. */
export async function startSilentServer(): Promise<{ host: string; close: () => Promise<void> }> {
  const { createServer } = await import('node:net');
  const sockets: import('node:net').Socket[] = [];
  const s = createServer((sock) => sockets.push(sock));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(s.address() as AddressInfo).port}`,
    close: async () => {
      for (const x of sockets) x.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
