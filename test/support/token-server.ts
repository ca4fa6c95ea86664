import { createSign, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';

// A bearer-token service for the registry's `auth: token` mode, on 127.0.0.1: checks basic
// credentials and issues RS256 JWTs whose x5c header chains to the certificate the registry trusts.

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** Scopes asked for, with the user that asked (or null for anonymous). */
  requests: { user: string | null; scope: string | null; granted: boolean }[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(creds: { username: string; password: string }): Promise<TokenServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-token-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=token-issuer', '-keyout', 'key.pem', '-out', 'cert.pem'],
    { cwd: dir, stdio: 'pipe' },
  );
  const key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
  const certDer = Buffer.from(readFileSync(path.join(dir, 'cert.pem'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const service = 'dynamo-image-test-registry';
  const issuer = 'dynamo-image-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const auth = req.headers.authorization;
    let user: string | null = null;
    let ok = true;
    if (auth?.startsWith('Basic ')) {
      const [u, p] = Buffer.from(auth.slice(6), 'base64').toString().split(/:(.*)/s);
      user = u ?? null;
      ok = u === creds.username && p === creds.password;
    } else ok = false;
    const scope = url.searchParams.get('scope');
    requests.push({ user, scope, granted: ok });
    if (!ok) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    const access = (scope ? scope.split(' ') : []).map((s) => {
      const [type, ...rest] = s.split(':');
      const actions = rest.pop() ?? '';
      return { type, name: rest.join(':'), actions: actions.split(',').filter(Boolean) };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const data = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(data).sign(key);
    const token = `${data}.${b64url(sig)}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile: path.join(dir, 'cert.pem'),
    requests,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
