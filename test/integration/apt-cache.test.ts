import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
// Package names of this run only: apt's cache mount outlives the test, and a name it already holds
// would not be downloaded at all.
const RUN = Math.random().toString(36).slice(2, 8);
const TINY = `dit-${RUN}-tiny`;
const TINY2 = `dit-${RUN}-tiny2`;
const BASE = `${NAME}-base:bookworm`;
let dir = '';
let server: http.Server;
const got: string[] = [];

function deb(name: string, version = '1.0', sub = ''): { file: string; stanza: string } {
  const root = path.join(dir, 'pkg', `${name}-${version}`);
  mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(path.join(root, 'usr', 'share', name), { recursive: true });
  writeFileSync(path.join(root, 'usr', 'share', name, 'hello.txt'), version === '1.0' ? `${name}\n` : `${name} ${version}\n`);
  const control = `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: dynamo-image tests <tests@localhost>\nDescription: a tiny package for the apt cache test\n`;
  writeFileSync(path.join(root, 'DEBIAN', 'control'), control);
  const file = path.join(dir, 'repo', sub, `${name}_${version}_all.deb`);
  execFileSync('dpkg-deb', ['--build', '--root-owner-group', root, file], { stdio: 'ignore' });
  const bytes = readFileSync(file);
  const stanza = `${control}Filename: ./${path.basename(file)}\nSize: ${bytes.length}\nMD5sum: ${createHash('md5').update(bytes).digest('hex')}\nSHA256: ${createHash('sha256').update(bytes).digest('hex')}\n`;
  return { file, stanza };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-apt-'));
  mkdirSync(path.join(dir, 'repo'));
  const pkgs = [deb(TINY), deb(TINY2)];
  writeFileSync(path.join(dir, 'repo', 'Packages'), pkgs.map((p) => p.stanza).join('\n'));
  server = http.createServer((req, res) => {
    // apt asks for a flat repository's files as /./NAME.
    const url = path.posix.normalize(req.url ?? '/');
    got.push(url);
    const f = path.join(dir, 'repo', url);
    if (req.method === 'GET' && (/^\/(signed[23]?\/)?Packages$/.test(url) || /^\/signed[23]?\/InRelease$/.test(url) || url.endsWith('.deb')))
      return void res.writeHead(200).end(readFileSync(f));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  // A base whose only apt source is the repository above (built offline).
  writeFileSync(
    path.join(dir, 'Dockerfile'),
    `FROM dynamo-image-base/debian:bookworm\nRUN rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* && echo 'deb [trusted=yes] http://127.0.0.1:${port} ./' > /etc/apt/sources.list\n`,
  );
  docker(['build', '-q', '--network', 'none', '-t', BASE, '-f', path.join(dir, 'Dockerfile'), path.join(dir, 'repo')]);
  // The engine: the base's own /usr/bin/true.
  mkdirSync(path.join(dir, 'r', 'bin'), { recursive: true });
  writeFileSync(
    path.join(dir, 'r', 'bin', 'engine'),
    execFileSync('docker', ['run', '--rm', '--network', 'none', 'dynamo-image-base/debian:bookworm', 'cat', '/usr/bin/true']),
    { mode: 0o755 },
  );
  const sha = createHash('sha256')
    .update(readFileSync(path.join(dir, 'r', 'bin', 'engine')))
    .digest('hex');
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
systemPackages: [${TINY}]
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
    expect(debGets(TINY)).toBe(1);
    expect(runIn(`${NAME}:1.0.0`, ['cat', `/usr/share/${TINY}/hello.txt`]).stdout.trim()).toBe(TINY);

    // Another package list: apt runs again, fetches the new package and finds the old one in the cache.
    writeFileSync(recipe, readFileSync(recipe, 'utf8').replace(`systemPackages: [${TINY}]`, `systemPackages: [${TINY}, ${TINY2}]`));
    const second = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--no-test']);
    expect(second.code, second.stderr).toBe(0);
    expect(got.filter((u) => u === '/Packages').length).toBe(2);
    expect(debGets(TINY2)).toBe(1);
    expect(debGets(TINY)).toBe(1);
    // The mount point stays as an empty folder; no package file, no apt list is in a layer.
    const inImage = runIn(`${NAME}:1.0.0`, [
      'sh',
      '-c',
      `cat /usr/share/${TINY}/hello.txt /usr/share/${TINY2}/hello.txt; find /var/cache/dynamo-image-apt /var/lib/apt/lists -type f | wc -l`,
    ]);
    expect(inImage.stdout.trim().split('\n')).toEqual([TINY, TINY2, '0']);
  });
});

describe('an extra apt repository with a pinned signing key', () => {
  const gpgHome = () => path.join(dir, 'gnupg');
  const gpg = (args: string[], input?: string) =>
    execFileSync('gpg', ['--homedir', gpgHome(), '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], input === undefined ? {} : { input });

  it('installs from a signed repository whose key the recipe pins; with another key the build fails and tags nothing', async () => {
    mkdirSync(gpgHome(), { recursive: true, mode: 0o700 });
    gpg(['--quick-gen-key', 'dynamo-image repo <repo@localhost>', 'ed25519', 'sign', 'never']);
    gpg(['--quick-gen-key', 'someone else <else@localhost>', 'ed25519', 'sign', 'never']);
    // The signed repository: Packages, a Release naming its digest, InRelease signed by the first key.
    const signed = path.join(dir, 'repo', 'signed');
    mkdirSync(signed);
    const packages = readFileSync(path.join(dir, 'repo', 'Packages'));
    writeFileSync(path.join(signed, 'Packages'), packages);
    for (const f of readdirSync(path.join(dir, 'repo')).filter((f) => f.endsWith('.deb')))
      writeFileSync(path.join(signed, f), readFileSync(path.join(dir, 'repo', f)));
    writeFileSync(
      path.join(signed, 'Release'),
      `Origin: dynamo-image-test\nLabel: dynamo-image-test\nDate: ${new Date(Date.now() - 3600_000).toUTCString()}\nSHA256:\n ${createHash('sha256').update(packages).digest('hex')} ${packages.length} Packages\n`,
    );
    gpg(['--local-user', 'repo@localhost', '--clearsign', '--output', path.join(signed, 'InRelease'), path.join(signed, 'Release')]);

    const port = (server.address() as AddressInfo).port;
    const nosrc = `${NAME}-nosrc:bookworm`;
    writeFileSync(path.join(dir, 'Dockerfile.nosrc'), 'FROM dynamo-image-base/debian:bookworm\nRUN rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*\n');
    docker(['build', '-q', '--network', 'none', '-t', nosrc, '-f', path.join(dir, 'Dockerfile.nosrc'), path.join(dir, 'repo')]);
    try {
      const r2 = path.join(dir, 'r2');
      mkdirSync(path.join(r2, 'keys'), { recursive: true });
      mkdirSync(path.join(r2, 'bin'));
      writeFileSync(path.join(r2, 'bin', 'engine'), readFileSync(path.join(dir, 'r', 'bin', 'engine')), { mode: 0o755 });
      writeFileSync(path.join(r2, 'keys', 'repo.gpg'), gpg(['--export', 'repo@localhost']));
      const recipe = path.join(r2, 'recipe.yaml');
      writeFileSync(
        recipe,
        readFileSync(path.join(dir, 'r', 'recipe.yaml'), 'utf8')
          .replace(`image: ${BASE}`, `image: ${nosrc}`)
          .replace(`name: ${NAME}`, `name: ${NAME}-signed`)
          .replace(
            /^systemPackages: .*$/m,
            `systemPackages: [${TINY}]\naptRepositories:\n  - name: test\n    uri: "http://127.0.0.1:${port}/{arch}-ignored/../signed"\n    suite: ./\n    key: { path: keys/repo.gpg, sha256: ${'f'.repeat(64)} }\n`,
          ),
      );
      // {arch} is resolved inside the image (here only to show it is: the path walks back out of it).
      expect((await runCli(['pin', recipe])).code).toBe(0);
      const rendered = (await runCli(['render', recipe])).stdout;
      expect(rendered).toContain('COPY keys/repo.gpg /usr/share/keyrings/dynamo-image-test.gpg');
      expect(rendered).toContain(
        'echo "deb [signed-by=/usr/share/keyrings/dynamo-image-test.gpg] http://127.0.0.1:' +
          port +
          '/${arch}-ignored/../signed ./" > /etc/apt/sources.list.d/dynamo-image-test.list',
      );
      const ok = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--no-test']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(got).toContain('/signed/InRelease');
      expect(runIn(`${NAME}-signed:1.0.0`, ['cat', `/usr/share/${TINY}/hello.txt`]).stdout.trim()).toBe(TINY);
      expect(runIn(`${NAME}-signed:1.0.0`, ['cat', '/etc/apt/sources.list.d/dynamo-image-test.list']).stdout).toContain('/amd64-ignored/../signed ./');

      // Another key: apt refuses the repository, the build fails, no new tag.
      const before = docker(['image', 'inspect', '-f', '{{.Id}}', `${NAME}-signed:1.0.0`]).stdout.trim();
      writeFileSync(path.join(r2, 'keys', 'repo.gpg'), gpg(['--export', 'else@localhost']));
      await runCli(['pin', recipe]);
      const bad = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--no-test']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/NO_PUBKEY|not signed|signatures couldn't be verified/);
      expect(docker(['image', 'inspect', '-f', '{{.Id}}', `${NAME}-signed:1.0.0`]).stdout.trim()).toBe(before);
    } finally {
      removeImages(nosrc);
    }
  });

  it('aptOptions (issue 23, point 6): a repository whose Release has expired needs Acquire::Check-Valid-Until=false, and gets it', async () => {
    const expired = path.join(dir, 'repo', 'signed3');
    mkdirSync(expired);
    const packages = readFileSync(path.join(dir, 'repo', 'Packages'));
    writeFileSync(path.join(expired, 'Packages'), packages);
    for (const f of readdirSync(path.join(dir, 'repo')).filter((f) => f.endsWith('.deb')))
      writeFileSync(path.join(expired, f), readFileSync(path.join(dir, 'repo', f)));
    const day = 86400_000;
    writeFileSync(
      path.join(expired, 'Release'),
      `Origin: dynamo-image-test\nLabel: expired\nDate: ${new Date(Date.now() - 10 * day).toUTCString()}\nValid-Until: ${new Date(Date.now() - 3 * day).toUTCString()}\nSHA256:\n ${createHash('sha256').update(packages).digest('hex')} ${packages.length} Packages\n`,
    );
    gpg(['--local-user', 'repo@localhost', '--clearsign', '--output', path.join(expired, 'InRelease'), path.join(expired, 'Release')]);
    const port = (server.address() as AddressInfo).port;
    const nosrc = `${NAME}-nosrc3:bookworm`;
    docker(['build', '-q', '--network', 'none', '-t', nosrc, '-f', path.join(dir, 'Dockerfile.nosrc'), path.join(dir, 'repo')]);
    try {
      const r3 = path.join(dir, 'r3');
      mkdirSync(path.join(r3, 'keys'), { recursive: true });
      mkdirSync(path.join(r3, 'bin'));
      writeFileSync(path.join(r3, 'bin', 'engine'), readFileSync(path.join(dir, 'r', 'bin', 'engine')), { mode: 0o755 });
      writeFileSync(path.join(r3, 'keys', 'repo.gpg'), gpg(['--export', 'repo@localhost']));
      const recipe = path.join(r3, 'recipe.yaml');
      const text = readFileSync(path.join(dir, 'r', 'recipe.yaml'), 'utf8')
        .replace(`image: ${BASE}`, `image: ${nosrc}`)
        .replace(`name: ${NAME}`, `name: ${NAME}-expired`)
        .replace(
          /^systemPackages: .*$/m,
          `systemPackages: [${TINY}]\naptRepositories:\n  - name: test\n    uri: "http://127.0.0.1:${port}/signed3"\n    suite: ./\n    key: { path: keys/repo.gpg, sha256: ${'f'.repeat(64)} }\n`,
        );
      writeFileSync(recipe, text);
      expect((await runCli(['pin', recipe])).code).toBe(0);
      const refused = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--no-test']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/is (no longer valid|expired)/);
      writeFileSync(recipe, readFileSync(recipe, 'utf8').replace(/^aptRepositories:/m, 'aptOptions: [Acquire::Check-Valid-Until=false]\naptRepositories:'));
      expect((await runCli(['render', recipe])).stdout).toContain('apt-get -o Acquire::Check-Valid-Until=false update');
      const ok = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--no-test']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(runIn(`${NAME}-expired:1.0.0`, ['cat', `/usr/share/${TINY}/hello.txt`]).stdout.trim()).toBe(TINY);
    } finally {
      removeImages(nosrc, `${NAME}-expired:1.0.0`);
    }
  });
});

describe("an apt key is an OpenPGP key, and an extra repository adds packages without replacing the base's (issue 19, point 8)", () => {
  const gpgHome = () => path.join(dir, 'gnupg8');
  const gpg = (args: string[]) => execFileSync('gpg', ['--homedir', gpgHome(), '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args]);

  it('validate reads the key: format by suffix, no secret key, the pinned fingerprint; the plan records it', async () => {
    mkdirSync(gpgHome(), { recursive: true, mode: 0o700 });
    gpg(['--quick-gen-key', 'point 8 <p8@localhost>', 'ed25519', 'sign', 'never']);
    const fpr = gpg(['--with-colons', '--fingerprint', 'p8@localhost'])
      .toString()
      .split('\n')
      .find((l) => l.startsWith('fpr'))!
      .split(':')[9]!;
    const r = path.join(dir, 'r8');
    mkdirSync(path.join(r, 'keys'), { recursive: true });
    mkdirSync(path.join(r, 'bin'));
    writeFileSync(path.join(r, 'bin', 'engine'), readFileSync(path.join(dir, 'r', 'bin', 'engine')), { mode: 0o755 });
    const recipe = path.join(r, 'recipe.yaml');
    const write = (key: string, bytes: Buffer, extra = '') => {
      writeFileSync(path.join(r, 'keys', key), bytes);
      writeFileSync(
        recipe,
        readFileSync(path.join(dir, 'r', 'recipe.yaml'), 'utf8').replace(
          /^systemPackages: .*$/m,
          `systemPackages: [${TINY}]\naptRepositories:\n  - name: p8\n    uri: "http://127.0.0.1:1/x"\n    suite: ./\n    key: { path: keys/${key}, sha256: ${createHash('sha256').update(bytes).digest('hex')}${extra} }\n`,
        ),
      );
    };
    const armored = gpg(['--armor', '--export', 'p8@localhost']);
    write('k.asc', armored, `, fingerprint: "${fpr.replace(/(.{4})/g, '$1 ').trim()}"`);
    const ok = await runCli(['plan', recipe, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).aptRepositories[0]).toMatchObject({ name: 'p8', fingerprints: [fpr], priority: 100 });
    for (const [key, bytes, extra, code, says] of [
      ['k.gpg', armored, '', 'input.apt-key', 'is ASCII-armored but ends in .gpg'],
      ['k.asc', gpg(['--export', 'p8@localhost']), '', 'input.apt-key', 'ends in .asc but is not ASCII-armored'],
      ['k.gpg', gpg(['--export-secret-keys', 'p8@localhost']), '', 'input.apt-key', 'holds a secret key'],
      ['k.gpg', Buffer.from('<html>captive portal</html>'), '', 'input.apt-key', 'not an OpenPGP packet'],
      ['k.asc', armored, `, fingerprint: "${'A'.repeat(40)}"`, 'input.apt-key-fingerprint', `holds the key ${fpr}, not ${'A'.repeat(40)}`],
    ] as const) {
      write(key, bytes, extra);
      const bad = await runCli(['validate', recipe]);
      expect(bad.code, `${key}: ${bad.stderr}`).toBe(2);
      expect(bad.stderr).toContain(`error[${code}]`);
      expect(bad.stderr).toContain(says);
      expect(bad.stderr).toMatch(/recipe\.yaml:\d+:\d+: /);
    }
  });

  it("default priority 100: the base's version wins; priority 990 takes the repository's; a repository on the base's own host is refused", async () => {
    mkdirSync(path.join(dir, 'repo', 'signed2'), { recursive: true });
    const v2 = deb(TINY, '2.0', 'signed2');
    const packages = Buffer.from(v2.stanza);
    writeFileSync(path.join(dir, 'repo', 'signed2', 'Packages'), packages);
    writeFileSync(
      path.join(dir, 'repo', 'signed2', 'Release'),
      `Origin: dynamo-image-test\nLabel: p8\nDate: ${new Date(Date.now() - 3600_000).toUTCString()}\nSHA256:\n ${createHash('sha256').update(packages).digest('hex')} ${packages.length} Packages\n`,
    );
    gpg([
      '--local-user',
      'p8@localhost',
      '--clearsign',
      '--output',
      path.join(dir, 'repo', 'signed2', 'InRelease'),
      path.join(dir, 'repo', 'signed2', 'Release'),
    ]);
    const port = (server.address() as AddressInfo).port;
    // The base's own source names the server as localhost (TINY 1.0); the extra repository as 127.0.0.1 (TINY 2.0).
    const localBase = `${NAME}-localhost:bookworm`;
    writeFileSync(
      path.join(dir, 'Dockerfile.localhost'),
      `FROM dynamo-image-base/debian:bookworm\nRUN rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* && echo 'deb [trusted=yes] http://localhost:${port} ./' > /etc/apt/sources.list\n`,
    );
    docker(['build', '-q', '--network', 'none', '-t', localBase, '-f', path.join(dir, 'Dockerfile.localhost'), path.join(dir, 'repo')]);
    try {
      const r = path.join(dir, 'r8');
      const key = gpg(['--export', 'p8@localhost']);
      writeFileSync(path.join(r, 'keys', 'k.gpg'), key);
      const recipe = path.join(r, 'recipe.yaml');
      const write = (base: string, priority: string) =>
        writeFileSync(
          recipe,
          readFileSync(path.join(dir, 'r', 'recipe.yaml'), 'utf8')
            .replace(`image: ${BASE}`, `image: ${base}`)
            .replace(`name: ${NAME}`, `name: ${NAME}-p8`)
            .replace(
              /^systemPackages: .*$/m,
              `systemPackages: [${TINY}]\naptRepositories:\n  - name: p8\n    uri: "http://127.0.0.1:${port}/signed2"\n    suite: ./\n${priority}    key: { path: keys/k.gpg, sha256: ${createHash('sha256').update(key).digest('hex')} }\n`,
            ),
        );
      const hello = () => runIn(`${NAME}-p8:1.0.0`, ['cat', `/usr/share/${TINY}/hello.txt`]).stdout.trim();
      write(localBase, '');
      const low = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--no-test']);
      expect(low.code, low.stderr).toBe(0);
      expect(hello()).toBe(TINY);
      expect(runIn(`${NAME}-p8:1.0.0`, ['cat', '/etc/apt/preferences.d/dynamo-image-p8.pref']).stdout).toBe(
        'Package: *\nPin: origin "127.0.0.1"\nPin-Priority: 100\n',
      );
      write(localBase, '    priority: 990\n');
      const high = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--no-test']);
      expect(high.code, high.stderr).toBe(0);
      expect(hello()).toBe(`${TINY} 2.0`);
      // The first base names 127.0.0.1 itself: a pin by host would pin the base's packages too.
      const before = docker(['image', 'inspect', '-f', '{{.Id}}', `${NAME}-p8:1.0.0`]).stdout.trim();
      write(BASE, '');
      const shared = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--no-test']);
      expect(shared.code).toBe(1);
      expect(shared.stderr).toContain("the base image's apt sources use 127.0.0.1 too");
      expect(docker(['image', 'inspect', '-f', '{{.Id}}', `${NAME}-p8:1.0.0`]).stdout.trim()).toBe(before);
    } finally {
      removeImages(localBase);
    }
  });
});
