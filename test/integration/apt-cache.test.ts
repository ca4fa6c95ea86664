import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { docker, removeImages, removeImagesNamed, runIn } from '../support/docker.js';

// The apt step the tool renders, under BuildKit: its downloads go to a cache mount of our own
// (Dir::Cache::Archives), so a later apt step that needs the same package takes it from there. A
// flat apt repository on 127.0.0.1 (two tiny packages made here with dpkg-deb) counts what it
// serves; the base image's only apt source is that repository.

const NAME = `it-apt-cache-${process.pid}`;
const BASE = `${NAME}-base:bookworm`;
let dir = '';
let server: http.Server;
const got: string[] = [];

function deb(name: string): { file: string; stanza: string } {
  const root = path.join(dir, 'pkg', name);
  mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(path.join(root, 'usr', 'share', name), { recursive: true });
  writeFileSync(path.join(root, 'usr', 'share', name, 'hello.txt'), `${name}\n`);
  const control = `Package: ${name}\nVersion: 1.0\nArchitecture: all\nMaintainer: dynamo-image tests <tests@localhost>\nDescription: a tiny package for the apt cache test\n`;
  writeFileSync(path.join(root, 'DEBIAN', 'control'), control);
  const file = path.join(dir, 'repo', `${name}_1.0_all.deb`);
  execFileSync('dpkg-deb', ['--build', '--root-owner-group', root, file], { stdio: 'ignore' });
  const bytes = readFileSync(file);
  const stanza = `${control}Filename: ./${path.basename(file)}\nSize: ${bytes.length}\nMD5sum: ${createHash('md5').update(bytes).digest('hex')}\nSHA256: ${createHash('sha256').update(bytes).digest('hex')}\n`;
  return { file, stanza };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-apt-'));
  mkdirSync(path.join(dir, 'repo'));
  const pkgs = [deb('dynamo-image-tiny'), deb('dynamo-image-tiny2')];
  writeFileSync(path.join(dir, 'repo', 'Packages'), pkgs.map((p) => p.stanza).join('\n'));
  server = http.createServer((req, res) => {
    // apt asks for a flat repository's files as /./NAME.
    const url = path.posix.normalize(req.url ?? '/');
    got.push(url);
    const f = path.join(dir, 'repo', path.basename(url));
    if (req.method === 'GET' && (url === '/Packages' || url.endsWith('.deb'))) return void res.writeHead(200).end(readFileSync(f));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  // A base whose only apt source is the repository above (built offline).
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM dynamo-image-base/debian:bookworm\nRUN rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* && echo 'deb [trusted=yes] http://127.0.0.1:${port} ./' > /etc/apt/sources.list\n`);
  docker(['build', '-q', '--network', 'none', '-t', BASE, '-f', path.join(dir, 'Dockerfile'), path.join(dir, 'repo')]);
  // The engine: the base's own /usr/bin/true.
  mkdirSync(path.join(dir, 'r', 'bin'), { recursive: true });
  writeFileSync(path.join(dir, 'r', 'bin', 'engine'), execFileSync('docker', ['run', '--rm', '--network', 'none', 'dynamo-image-base/debian:bookworm', 'cat', '/usr/bin/true']), { mode: 0o755 });
  const sha = createHash('sha256').update(readFileSync(path.join(dir, 'r', 'bin', 'engine'))).digest('hex');
  writeFileSync(
    path.join(dir, 'r', 'recipe.yaml'),
    `apiVersion: dynamo-image/v1
name: ${NAME}
version: 1.0.0
base:
  image: ${BASE}
  os: debian12
  pythonIncluded: false
python: "3.11"
engine:
  framework: custom
  version: 1.0.0
  binary: { path: bin/engine, sha256: ${sha}, installPath: /opt/engine/bin/engine }
systemPackages: [dynamo-image-tiny]
backend:
  entrypoint: [/opt/engine/bin/engine]
`,
  );
}, 120_000);

afterAll(() => {
  server?.close();
  removeImagesNamed(NAME);
  removeImages(BASE);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const debGets = (name: string) => got.filter((u) => u === `/${name}_1.0_all.deb`).length;

describe('apt downloads in a BuildKit cache mount', () => {
  it('a later apt step that needs the same package takes it from the cache; the cache is not in the image', async () => {
    const recipe = path.join(dir, 'r', 'recipe.yaml');
    const first = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--no-test']);
    expect(first.code, first.stderr).toBe(0);
    expect(debGets('dynamo-image-tiny')).toBe(1);
    expect(runIn(`${NAME}:1.0.0`, ['cat', '/usr/share/dynamo-image-tiny/hello.txt']).stdout.trim()).toBe('dynamo-image-tiny');

    // Another package list: apt runs again, fetches the new package and finds the old one in the cache.
    writeFileSync(recipe, readFileSync(recipe, 'utf8').replace('systemPackages: [dynamo-image-tiny]', 'systemPackages: [dynamo-image-tiny, dynamo-image-tiny2]'));
    const second = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--no-test']);
    expect(second.code, second.stderr).toBe(0);
    expect(got.filter((u) => u === '/Packages').length).toBe(2);
    expect(debGets('dynamo-image-tiny2')).toBe(1);
    expect(debGets('dynamo-image-tiny')).toBe(1);
    // The mount point stays as an empty folder; no package file, no apt list is in a layer.
    const inImage = runIn(`${NAME}:1.0.0`, ['sh', '-c', 'cat /usr/share/dynamo-image-tiny/hello.txt /usr/share/dynamo-image-tiny2/hello.txt; find /var/cache/dynamo-image-apt /var/lib/apt/lists -type f | wc -l']);
    expect(inImage.stdout.trim().split('\n')).toEqual(['dynamo-image-tiny', 'dynamo-image-tiny2', '0']);
  });
});
