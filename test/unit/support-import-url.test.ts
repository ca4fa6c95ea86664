import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';

// Issue 20, point 1: `support import URL` where a network is allowed. A real HTTP server on
// 127.0.0.1 answers as a docs host would, and as a hostile or broken one would: every answer that
// is not bounded, JSON release data is an error that names the URL, and the support data keeps
// every byte. Plain http is for loopback only; anything else is refused before a connection.

const FIXTURE = readFileSync(path.join(ROOT, 'test/fixtures/release-data/releases.json'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-support-url-'));
let base = '';
let hits: string[] = [];
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  hits.push(req.url ?? '');
  if (req.headers.authorization) res.setHeader('x-saw-auth', '1');
  switch (req.url) {
    case '/releases.json':
      res.writeHead(200, { 'content-type': 'application/json' }).end(FIXTURE);
      return;
    case '/raw':
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(FIXTURE);
      return;
    case '/moved':
      res.writeHead(302, { location: '/releases.json' }).end();
      return;
    case '/to-plain-http':
      res.writeHead(302, { location: 'http://example.invalid/releases.json' }).end();
      return;
    case '/portal':
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>sign in to the Wi-Fi</html>');
      return;
    case '/declared-huge':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(50 << 20) });
      res.write('{');
      setTimeout(() => res.destroy(), 200);
      return;
    case '/endless': {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 << 10, 0x20);
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
        res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
      return;
    }
    case '/trickle': {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 200);
      res.on('close', () => clearInterval(t));
      return;
    }
    default:
      res.writeHead(404).end('not found');
  }
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

function dataDir(name: string) {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(ROOT, 'base-images/support-matrix.yaml'), path.join(dir, 'support-matrix.yaml'));
  copyFileSync(path.join(ROOT, 'base-images/base-images.yaml'), path.join(dir, 'base-images.yaml'));
  return {
    dir,
    sha: () =>
      createHash('sha256')
        .update(readFileSync(path.join(dir, 'support-matrix.yaml')))
        .digest('hex'),
  };
}

describe('support import from a URL', () => {
  it.each(['/releases.json', '/raw', '/moved'])('%s: the same answer as the file (current: --check passes, no byte changes)', async (p) => {
    const d = dataDir(`ok${p.replace(/\W/g, '_')}`);
    const before = d.sha();
    const r = await runCli(['support', 'import', `${base}${p}`, '--data', d.dir, '--check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('is current with');
    expect(d.sha()).toBe(before);
  });

  it.each([
    ['/portal', 3, /answered text\/html, not JSON; nothing was changed/],
    ['/missing', 3, /answered HTTP 404; nothing was changed/],
    ['/to-plain-http', 3, /redirected to http:\/\/example\.invalid\/releases\.json, which is plain http to example\.invalid/],
    ['/declared-huge', 2, /is 52428800 bytes, more than release data ever is \(limit 4194304\)/],
    ['/endless', 2, /is over 4194304 bytes \(read up to there\)/],
    ['/trickle', 3, /no complete answer within 2 s; nothing was changed/],
  ] as const)('%s: exit %i, named, nothing written', async (p, code, message) => {
    const d = dataDir(`bad${p.replace(/\W/g, '_')}`);
    const before = d.sha();
    const r = await runCli(['support', 'import', `${base}${p}`, '--data', d.dir], { env: { DYNAMO_IMAGE_SUPPORT_TIMEOUT_S: '2' } });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(`${base}${p}`);
    expect(d.sha()).toBe(before);
  });

  it.each([
    ['http://example.invalid/releases.json', /is plain http to example\.invalid; use https/],
    ['ftp://127.0.0.1/releases.json', /has scheme ftp; use https/],
    ['https://user:secret@127.0.0.1/releases.json', /carries credentials/],
  ])('%s is refused before any connection (exit 2)', async (url, message) => {
    hits = [];
    const d = dataDir(`refused${hits.length}${url.length}`);
    const r = await runCli(['support', 'import', url, '--data', d.dir]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('secret@');
    expect(hits).toEqual([]);
  });
});
