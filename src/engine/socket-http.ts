import http from 'node:http';

// A few Engine API calls over the local unix socket with Node's own http: enough for the paths that
// need nothing else (the up-to-date check: one image lookup, then tags). Loading the full client
// (dockerode, with its gRPC and protobuf for BuildKit sessions) costs more than the whole check.

export interface SocketAnswer {
  status: number;
  body: string;
}

export function socketRequest(socketPath: string, method: 'GET' | 'POST' | 'DELETE', path: string, opts: { timeoutMs?: number } = {}): Promise<SocketAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers: { Host: 'docker' }, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${opts.timeoutMs ?? 30_000} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

/** The unix socket DOCKER_HOST names (or the default), or null for tcp:// and ssh:// engines. */
export function localSocket(env: NodeJS.ProcessEnv = process.env): string | null {
  const host = env['DOCKER_HOST'];
  if (!host) return '/var/run/docker.sock';
  const m = /^unix:\/\/(\/.+)$/.exec(host);
  return m ? m[1]! : null;
}
