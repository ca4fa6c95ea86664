import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { docker } from '../support/docker.js';
import { startSecondEngine, type SecondEngine } from '../support/second-engine.js';

// Reaching the engine the way the docker CLI does: DOCKER_HOST=tcp://... with DOCKER_TLS_VERIFY and
// DOCKER_CERT_PATH, against a second engine on 127.0.0.1 that this test starts with its own CA.

describe('DOCKER_HOST over TCP with TLS', () => {
  let engine: SecondEngine;
  beforeAll(async () => {
    engine = await startSecondEngine(['dynamo-image-base/debian-python:bookworm'], { tls: true });
  });
  afterAll(async () => engine?.stop());

  it('builds and tests an example through a verified TLS connection', async () => {
    const env = { DOCKER_HOST: engine.tcp!.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: engine.tcp!.certPath };
    const r = await runCli(['build', 'recipes/examples/echo-python/recipe.yaml', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.smoke).toMatchObject({ ran: true, failed: 0 });
    // The image is in that engine (read over its unix socket, another client).
    expect(docker(['-H', engine.host, 'image', 'inspect', '--format', '{{.Id}}', 'echo-python:0.1.0']).stdout.trim()).toBe(out.image);
    expect(docker(['-H', engine.host, 'ps', '-aq']).stdout.trim()).toBe('');
  });

  it('a certificate from another CA: exit 3, naming the endpoint', async () => {
    const r = await runCli(['build', 'recipes/examples/echo-python/recipe.yaml'], {
      env: { DOCKER_HOST: engine.tcp!.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: engine.tcp!.otherCaCertPath },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`no Docker engine answers at ${engine.tcp!.host} (from DOCKER_HOST, TLS verified)`);
  });

  it('a malformed DOCKER_HOST: exit 3 with the accepted forms', async () => {
    const r = await runCli(['build', 'recipes/examples/echo-python/recipe.yaml'], { env: { DOCKER_HOST: 'nonsense' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cannot use DOCKER_HOST=nonsense');
  });
});
