import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { docker, privateExample, removeImagesNamed } from '../support/docker.js';

// Issue 23: a real inference engine end to end. Debian sid's llama-server (llama.cpp-tools, in the
// base image made by scripts/llamacpp-env.sh) serving the tiny model that script writes (same
// bytes every run). The image has neither python3 nor curl: its serve tests send their requests
// from smoke.probeImage in the server's network namespace.

const ex = privateExample('recipes/examples/llamacpp-server', 'it');
afterAll(() => {
  removeImagesNamed(ex.name);
  ex.cleanup();
});

const layersOf = (ref: string) => JSON.parse(docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref]).stdout) as string[];

describe('llama.cpp example (issue 23)', () => {
  let first: { image: string; smoke: { passed: number } };

  it('builds without Python, and its smoke tests pass: version, model digest, /health, /v1/completions, /v1/chat/completions', async () => {
    const r = await runCli(['build', ex.recipe, '--json']);
    expect(r.code, r.stderr).toBe(0);
    first = JSON.parse(r.stdout);
    expect(first).toMatchObject({ upToDate: false, smoke: { ran: true, passed: 7, failed: 0, skipped: 0 } });
    // Each test by name, from the report `test` writes (the outcome on record for this image).
    const t = await runCli(['test', ex.recipe, '--json']);
    const rep = JSON.parse(t.stdout) as { results: { name: string; status: string }[] };
    for (const name of ['health', 'completions', 'chat completions', 'no Python and no curl in the image', 'the model is the pinned one'])
      expect(
        rep.results.find((x) => x.name === name),
        name,
      ).toMatchObject({ status: 'passed' });
    // The healthcheck the image carries is one the engine runs with the image's own wget.
    const hc = JSON.parse(docker(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', `${ex.name}:0.7.0`]).stdout) as { Test: string[] };
    expect(hc.Test).toEqual(['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/health']);
  });

  it('an unchanged rebuild is up to date', async () => {
    const r = await runCli(['build', ex.recipe, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ upToDate: true, image: first.image });
  });

  it("a chat-template edit rebuilds only its own layer: the model's and the engine's layers stay byte-identical", async () => {
    const before = layersOf(first.image);
    appendFileSync(path.join(ex.dir, 'config', 'chat-template.jinja'), '{#- edited -#}\n');
    // The recipe pins the template's sha256: the build refuses the edit until pin records it.
    const refused = await runCli(['build', ex.recipe, '--json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('sha256 mismatch for config/chat-template.jinja');
    expect((await runCli(['pin', ex.recipe])).code).toBe(0);
    const r = await runCli(['build', ex.recipe, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { image: string; upToDate: boolean; smoke: { passed: number } };
    expect(out.upToDate).toBe(false);
    expect(out.smoke.passed).toBe(7);
    const after = layersOf(out.image);
    expect(after).toHaveLength(before.length);
    // Everything but the last layer (the small files) is the same bytes: the base (the engine),
    // the runtime user and the model's own layer.
    expect(after.slice(0, -1)).toEqual(before.slice(0, -1));
    expect(after.at(-1)).not.toBe(before.at(-1));
    // The model came in its own COPY (a layer of its own).
    const history = docker(['image', 'history', '--no-trunc', '--human=false', '--format', '{{json .}}', out.image])
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { CreatedBy: string; Size: string });
    expect(history.some((h) => h.CreatedBy.includes('/opt/dynamo/staging-large/models/tiny-llama.gguf'))).toBe(true);
    // and the layer the edit rebuilt is the small files' (kilobytes), not one with the 485 KB model.
    const small = history.find((h) => h.CreatedBy.includes('/opt/dynamo/staging/ /'));
    expect(Number(small!.Size)).toBeLessThan(64 * 1024);
  });

  it('without smoke.probeImage the serve tests of this image fail and say what to do', async () => {
    const tests = path.join(ex.dir, 'no-probe-tests.yaml');
    writeFileSync(tests, 'tests:\n  - kind: serve\n    name: health\n    port: 8080\n    path: /health\n    readyTimeout: 10s\n');
    const r = await runCli(['test', `${ex.name}:0.7.0`, '--tests', tests, '--json']);
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.stdout) as { results: { status: string; reason: string }[] };
    expect(rep.results[0]).toMatchObject({ status: 'failed' });
    expect(rep.results[0]!.reason).toContain('no HTTP client in the image (looked for python3 and curl); set smoke.probeImage');
  });
});
