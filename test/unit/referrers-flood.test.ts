import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPublicKey } from '../../src/attest/keys.js';
import { MAX_BUNDLES, ourStatements } from '../../src/pipeline/attest.js';
import { findCredentials } from '../../src/publish/credentials.js';
import { RegistryClient } from '../../src/publish/registry-client.js';
import { ROOT } from '../support/cli.js';

// A registry whose referrers API names 5,000 bundles for one image (a hostile or broken one): the
// tool reads the newest MAX_BUNDLES of them, not all 5,000, and counts none it cannot verify.

const SUBJECT = `sha256:${'a'.repeat(64)}`;
const hex = (n: number) => n.toString(16).padStart(64, '0');

describe('a referrers list that names thousands of bundles', () => {
  let server: http.Server;
  let host = '';
  const manifestGets: string[] = [];
  beforeAll(async () => {
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: Array.from({ length: 5000 }, (_, i) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${hex(i + 1)}`,
        size: 500,
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      })),
    };
    server = http.createServer((req, res) => {
      const url = req.url ?? '';
      if (url === '/v2/') return void res.writeHead(200).end('{}');
      if (url === `/v2/flood/referrers/${SUBJECT}`)
        return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' }).end(JSON.stringify(index));
      if (url.startsWith('/v2/flood/manifests/')) manifestGets.push(url);
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it(`reads at most ${MAX_BUNDLES} of them, and finds no statement`, async () => {
    const file = path.join(ROOT, 'test/fixtures/keys/cosign-pw.pub');
    const key = loadPublicKey(readFileSync(file, 'utf8'), file);
    const client = new RegistryClient(host, await findCredentials(host, {}), { attempts: 1, baseMs: 0 });
    const found = await ourStatements(client, 'flood', SUBJECT, key);
    expect(found).toEqual([]);
    expect(manifestGets.length).toBe(MAX_BUNDLES);
    // The newest: the index's last entries.
    expect(manifestGets.at(-1)).toBe(`/v2/flood/manifests/sha256:${hex(5000)}`);
  });
});
