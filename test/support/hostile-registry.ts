import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A registry on 127.0.0.1 that works against its client (issue 19, points 1-2): it records every
// request with its Authorization header, and answers manifests the way the test sets: a challenge,
// a redirect, a wrong or malformed digest, an HTML page, a body too large, or one that trickles.

export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | null;
}

export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'challenge-basic' }
  | { kind: 'challenge-bearer'; realm: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'digest'; header: string }
  | { kind: 'html' }
  | { kind: 'huge'; bytes: number; declare: boolean }
  | { kind: 'trickle'; intervalMs: number };

export interface HostileRegistry {
  host: string;
  seen: SeenRequest[];
  behaviour: Behaviour;
  /** The manifest it serves when it serves one, and its digest. */
  manifest: Buffer;
  digest: string;
  close(): Promise<void>;
}

export const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

export async function startHostileRegistry(address = '127.0.0.1', behaviour: Behaviour = { kind: 'ok' }): Promise<HostileRegistry> {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 2, digest: `sha256:${'0'.repeat(64)}` },
      layers: [],
    }),
  );
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  const timers = new Set<NodeJS.Timeout>();
  const state = { seen: [] as SeenRequest[], behaviour };
  const server = http.createServer((req, res) => {
    state.seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization ?? null });
    req.resume();
    const b = state.behaviour;
    const authorised = req.headers.authorization !== undefined;
    if (b.kind === 'challenge-basic' && !authorised) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="hostile"', 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    if (b.kind === 'challenge-bearer' && !req.headers.authorization?.startsWith('Bearer ')) {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${b.realm}",service="hostile",scope="repository:x:pull"`, 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    if (req.url === '/v2/' || req.url === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{}');
    }
    if (!/^\/v2\/.+\/manifests\//.test(req.url ?? '')) {
      res.writeHead(404);
      return res.end();
    }
    const head = req.method === 'HEAD';
    switch (b.kind) {
      case 'redirect':
        res.writeHead(307, { location: b.location });
        return res.end();
      case 'digest':
        res.writeHead(200, { 'content-type': MANIFEST_TYPE, 'docker-content-digest': b.header, 'content-length': manifest.length });
        return res.end(head ? undefined : manifest);
      case 'html': {
        const page = Buffer.from('<html><body>Please log in to the hotel Wi-Fi</body></html>');
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length });
        return res.end(head ? undefined : page);
      }
      case 'huge': {
        res.writeHead(200, { 'content-type': MANIFEST_TYPE, ...(b.declare ? { 'content-length': b.bytes } : {}) });
        if (head) return res.end();
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = (): void => {
          while (sent < b.bytes) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('error', () => undefined);
        return pump();
      }
      case 'trickle': {
        res.writeHead(200, { 'content-type': MANIFEST_TYPE, 'docker-content-digest': digest });
        if (head) return res.end();
        const t = setInterval(() => res.write(' '), b.intervalMs);
        timers.add(t);
        res.on('close', () => {
          clearInterval(t);
          timers.delete(t);
        });
        return;
      }
      default:
        res.writeHead(200, { 'content-type': MANIFEST_TYPE, 'docker-content-digest': digest, 'content-length': manifest.length });
        return res.end(head ? undefined : manifest);
    }
  });
  await new Promise<void>((r) => server.listen(0, address, r));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `${address}:${port}`,
    get seen() {
      return state.seen;
    },
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(v: Behaviour) {
      state.behaviour = v;
    },
    manifest,
    digest,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearInterval(t);
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A server that records who asked it for anything (a token realm that must never be asked). */
export async function startRecorder(address = '127.0.0.1'): Promise<{ host: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization ?? null });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: 'stolen' }));
  });
  await new Promise<void>((r) => server.listen(0, address, r));
  return {
    host: `${address}:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
