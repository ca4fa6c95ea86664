import type { ContainerHandle } from '../../engine/port.js';
import { OperationError } from '../../errors.js';
import type { SmokeTest } from '../../recipe/schema.js';
import { checkJson, checkOutput, explainExit, parseDuration, tailLines } from '../checks.js';
import { curlArgv, parseCurl, parseResultLine, pythonHttpArgv } from '../probes.js';
import { baseSpec, Failure, sleep, startFailure, withContainer, type Ctx } from '../context.js';

// The serve: start the server, wait until it is ready, send the requests (from inside, or from a probe container).

type HttpAnswer = { status: number; body: string } | { error: string };

/** Where serve requests come from: the server's container, or a probe container in its network namespace. */
interface HttpClient {
  kind: 'python' | 'curl' | null;
  via: ContainerHandle;
  /** The probe container (smoke.probeImage), once started; removed when the test ends. */
  probe: ContainerHandle | null;
}

const NO_CLIENT = 'no HTTP client in the image (looked for python3 and curl)';

/** Sends one request from the server's own network namespace; falls back to smoke.probeImage. */
async function httpFrom(
  ctx: Ctx,
  t: SmokeTest,
  server: ContainerHandle,
  req: { port: number; path: string; method: string; body?: string | undefined; timeoutS: number },
  signal: AbortSignal,
  client: HttpClient,
): Promise<HttpAnswer> {
  const ans = await httpFromInside(client.via, req, signal, client);
  if (!('error' in ans) || ans.error !== NO_CLIENT || client.probe)
    return client.probe && 'error' in ans && ans.error === NO_CLIENT
      ? { error: `no HTTP client in the probe image ${ctx.opts.probeImage} either (looked for python3 and curl)` }
      : ans;
  if (!ctx.opts.probeImage)
    return { error: `${NO_CLIENT}; set smoke.probeImage to an image that has one (it joins the server's network namespace to send the requests)` };
  // A container of the probe image in the server's network namespace (loopback only: the server has no network).
  const probe = await ctx.engine.createContainer({
    ...baseSpec(ctx, { ...t, gpu: false }),
    image: ctx.opts.probeImage,
    entrypoint: ['sleep'],
    cmd: [String(Math.ceil(parseDuration(ctx.opts.timeout) / 1000))],
    networkOf: server.id,
  });
  client.probe = probe;
  try {
    await probe.start();
  } catch (e) {
    throw startFailure(e) ?? e;
  }
  client.via = probe;
  client.kind = null;
  return httpFrom(ctx, t, server, req, signal, client);
}

async function httpFromInside(
  c: ContainerHandle,
  req: { port: number; path: string; method: string; body?: string | undefined; timeoutS: number },
  signal: AbortSignal,
  client: Pick<HttpClient, 'kind'>,
): Promise<HttpAnswer> {
  const missing = (r: { exitCode: number; stdout: string; stderr: string }) =>
    r.exitCode === 126 || r.exitCode === 127 || /executable file not found|no such file or directory/i.test(r.stderr + r.stdout);
  if (client.kind !== 'curl') {
    const r = await c.exec(pythonHttpArgv('python3', req), signal);
    const out = parseResultLine(r.stdout) as HttpAnswer | null;
    if (out) {
      client.kind = 'python';
      return out;
    }
    // Python is there but the probe did not finish (the container may be going away).
    if (client.kind === 'python' || !missing(r)) return { error: `probe failed (exit ${r.exitCode}): ${tailLines(r.stderr, 3).join(' ')}` };
  }
  const r = await c.exec(curlArgv(req), signal);
  const out = parseCurl(r.stdout);
  if (out) {
    client.kind = 'curl';
    return out;
  }
  if (missing(r)) return { error: NO_CLIENT };
  return { error: `curl failed (exit ${r.exitCode}): ${tailLines(r.stderr, 3).join(' ')}` };
}

export async function runServe(ctx: Ctx, t: Extract<SmokeTest, { kind: 'serve' }>, signal: AbortSignal): Promise<void> {
  // The image's own entrypoint, never overridden: the thing that ships is the thing tested.
  await withContainer(ctx, { ...baseSpec(ctx, t), ...(t.args ? { cmd: t.args } : {}) }, async (c) => {
    try {
      await c.start();
    } catch (e) {
      throw startFailure(e) ?? e;
    }
    const readyDeadline = Date.now() + parseDuration(t.readyTimeout);
    const client: HttpClient = { kind: null, via: c, probe: null };
    try {
      await serveChecks(ctx, t, c, client, readyDeadline, signal);
    } finally {
      await client.probe?.remove();
    }
  });
}

async function serveChecks(
  ctx: Ctx,
  t: Extract<SmokeTest, { kind: 'serve' }>,
  c: ContainerHandle,
  client: HttpClient,
  readyDeadline: number,
  signal: AbortSignal,
): Promise<void> {
  {
    const readyPath = t.readyPath ?? t.path;
    let last = '';
    for (;;) {
      const state = await c.inspect();
      if (!state.running) {
        const logs = await c.logs();
        throw new Failure(`the server exited before it was ready (exit code ${state.exitCode})`, {
          exitCode: state.exitCode,
          exitExplained: explainExit(state.exitCode, state.oomKilled),
          tail: tailLines(`${logs.stdout}\n${logs.stderr}`),
        });
      }
      let ans: HttpAnswer;
      try {
        ans = await httpFrom(ctx, t, c, { port: t.port, path: readyPath, method: 'GET', timeoutS: 2 }, signal, client);
      } catch (e) {
        // It stopped between the check and the probe: the next round reports how it exited.
        if (e instanceof OperationError && e.code === 'container.not-running') continue;
        throw e;
      }
      if ('error' in ans && ans.error.startsWith('no HTTP client') && (await c.inspect()).running) throw new Failure(ans.error);
      if ('status' in ans && (t.readyPath ? ans.status >= 200 && ans.status < 300 : true)) break;
      last = 'status' in ans ? `HTTP ${ans.status}` : ans.error;
      if (Date.now() > readyDeadline) {
        const logs = await c.logs();
        throw new Failure(`not ready after ${t.readyTimeout} (last answer: ${last})`, {
          expected: `GET ${readyPath} answers${t.readyPath ? ' 2xx' : ''}`,
          actual: last,
          tail: tailLines(`${logs.stdout}\n${logs.stderr}`),
        });
      }
      await sleep(250, signal);
    }
    const ans = await httpFrom(ctx, t, c, { port: t.port, path: t.path, method: t.method, body: t.body, timeoutS: 10 }, signal, client);
    if ('error' in ans) throw new Failure(`${t.method} ${t.path} failed: ${ans.error}`);
    const problems: { e: string; a: string }[] = [];
    if (ans.status !== t.expect.status) problems.push({ e: `status ${t.expect.status}`, a: `status ${ans.status}` });
    for (const p of checkOutput('body', ans.body, t.expect.body)) problems.push({ e: p.expected, a: p.problem });
    if (t.expect.json) {
      let parsed: unknown;
      let isJson = true;
      try {
        parsed = JSON.parse(ans.body);
      } catch {
        isJson = false;
        problems.push({ e: 'a JSON body', a: 'not JSON' });
      }
      if (isJson) problems.push(...checkJson(parsed, t.expect.json));
    }
    if (problems.length) {
      const logs = await c.logs();
      throw new Failure(problems.map((p) => `expected ${p.e}, got ${p.a}`).join('; '), {
        expected: problems.map((p) => p.e).join('; '),
        actual: `HTTP ${ans.status}: ${ans.body.slice(0, 500)}`,
        tail: tailLines(`${logs.stdout}\n${logs.stderr}`),
      });
    }
  }
}
