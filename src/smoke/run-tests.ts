import type { ContainerHandle, ContainerSpec, Engine, FsEntry, GpuRequest, ImageDetails } from '../engine/port.js';
import { cudaMismatches, distInfoOf, dpkgPackages, globMatch, type Found } from './cuda-variant.js';
import { elfDynamic, isElf } from './elf.js';
import { overlayDelta, overlayViolations, type Installed, type OverlayDelta } from './overlay.js';
import { parseTrace, preloadFailed } from './loader.js';
import { OperationError } from '../errors.js';
import type { SmokeTest } from '../recipe/schema.js';
import { checkJson, checkOutput, deepEqual, explainExit, extractVersion, parseBytes, parseDuration, tailLines, versionSatisfies } from './checks.js';
import { checkDriver } from './driver.js';
import { detectGpu, SMOKE_LABEL, type GpuRequestMode } from './gpu.js';
import { curlArgv, parseCurl, parseResultLine, pythonHttpArgv, PYTHON_CHECK } from './probes.js';
import type { GpuStatus, SmokeReport, TestResult } from './types.js';

// Runs smoke tests inside an image: each in a fresh container (network none, limits), each
// container removed in `finally` whatever happens, tests in parallel up to `jobs`.

export interface SmokeOptions {
  image: string;
  /** How reports name the image (a tag), when `image` is an id. */
  display?: string;
  tests: SmokeTest[];
  limits: { memory: string; cpus: number; pids: number };
  timeout: string;
  gpu: 'auto' | 'require' | 'off';
  gpuDevices?: string[];
  /** How GPU tests ask for GPUs (default auto: the NVIDIA runtime when registered, else CDI). */
  gpuRequest?: GpuRequestMode;
  jobs: number;
  signal: AbortSignal;
  onResult?: (r: TestResult) => void;
  /** serve tests of an image with neither python3 nor curl: requests go from a container of this image in the server's network namespace. */
  probeImage?: string;
}

const CUDA_LABEL = 'dev.dynamo-image.cuda-version';
const MIN_DRIVER_LABEL = 'dev.dynamo-image.min-driver';

class Failure extends Error {
  constructor(
    readonly reason: string,
    readonly details: Partial<Pick<TestResult, 'expected' | 'actual' | 'exitCode' | 'exitExplained' | 'tail' | 'data'>> = {},
  ) {
    super(reason);
  }
}

class TimedOut extends Error {}

function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const on = () => reject(signal.reason);
    signal.addEventListener('abort', on, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', on);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', on);
        reject(e);
      },
    );
  });
}

/** Waits, or rejects when the signal aborts; its listener goes when the wait ends either way. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => (clearTimeout(t), reject(signal.reason));
    const t = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

interface Ctx {
  engine: Engine;
  image: ImageDetails;
  opts: SmokeOptions;
  gpu: GpuStatus;
  signal: AbortSignal;
}

function baseSpec(ctx: Ctx, test: SmokeTest): Omit<ContainerSpec, 'image'> & { image: string } {
  return {
    image: ctx.image.id,
    labels: { [SMOKE_LABEL]: test.name.slice(0, 200) },
    memoryBytes: parseBytes(ctx.opts.limits.memory),
    nanoCpus: Math.round(ctx.opts.limits.cpus * 1e9),
    pidsLimit: ctx.opts.limits.pids,
    ...(test.gpu && ctx.gpu.request ? { gpus: ctx.gpu.request } : {}),
  };
}

/** Creates a container, hands it to `fn`, and removes it whatever happens. */
async function withContainer<T>(ctx: Ctx, spec: ContainerSpec, fn: (c: ContainerHandle) => Promise<T>): Promise<T> {
  const c = await ctx.engine.createContainer(spec);
  try {
    return await fn(c);
  } finally {
    await c.remove();
  }
}

/** The runtime refuses to start a command that is missing or not executable: report it as the shell would. */
function startFailure(e: unknown): Failure | null {
  if (!(e instanceof OperationError)) return null;
  const code = e.code === 'container.command-not-found' ? 127 : e.code === 'container.command-not-executable' ? 126 : null;
  if (code === null) return null;
  return new Failure(`exit code ${code}: ${e.message}`, { exitCode: code, exitExplained: explainExit(code, false) });
}

async function runToExit(ctx: Ctx, c: ContainerHandle, signal: AbortSignal) {
  try {
    await c.start();
  } catch (e) {
    throw startFailure(e) ?? e;
  }
  const { exitCode } = await c.wait(signal);
  const [logs, state] = await Promise.all([c.logs(), c.inspect()]);
  return { exitCode, oomKilled: state.oomKilled, ...logs };
}

async function runCommand(ctx: Ctx, t: Extract<SmokeTest, { kind: 'command' }>, signal: AbortSignal): Promise<void> {
  const [cmd0, ...rest] = t.command;
  await withContainer(ctx, { ...baseSpec(ctx, t), entrypoint: [cmd0!], cmd: rest }, async (c) => {
    const r = await runToExit(ctx, c, signal);
    const tail = tailLines(`${r.stdout}\n${r.stderr}`);
    if (r.oomKilled || r.exitCode !== t.exitCode)
      throw new Failure(`exit code ${r.exitCode}, expected ${t.exitCode}`, { expected: `exit code ${t.exitCode}`, actual: `exit code ${r.exitCode}`, exitCode: r.exitCode, exitExplained: explainExit(r.exitCode, r.oomKilled), tail });
    const problems = [...checkOutput('stdout', r.stdout, t.stdout), ...checkOutput('stderr', r.stderr, t.stderr)];
    if (problems.length) throw new Failure(problems.map((p) => p.problem).join('; '), { expected: problems.map((p) => p.expected).join('; '), actual: tail.join('\n'), tail });
    if (t.version) {
      const v = extractVersion(`${r.stdout}\n${r.stderr}`, t.version.regex);
      if (!v) throw new Failure(`no version found by /${t.version.regex}/`, { expected: `a version matching /${t.version.regex}/`, actual: tail.join('\n'), tail });
      if (!versionSatisfies(v, t.version.constraint)) throw new Failure(`version ${v} does not satisfy ${t.version.constraint}`, { expected: t.version.constraint, actual: v });
    }
  });
}

async function runPython(ctx: Ctx, t: Extract<SmokeTest, { kind: 'python' }>, signal: AbortSignal): Promise<void> {
  const spec = { imports: t.imports, dists: Object.keys(t.distributions) };
  await withContainer(ctx, { ...baseSpec(ctx, t), entrypoint: [t.python], cmd: ['-c', PYTHON_CHECK, JSON.stringify(spec)] }, async (c) => {
    const r = await runToExit(ctx, c, signal);
    const tail = tailLines(`${r.stdout}\n${r.stderr}`);
    const out = parseResultLine(r.stdout) as { imports: Record<string, string | null>; dists: Record<string, string | null> } | null;
    if (!out) throw new Failure(`${t.python} did not run the check`, { exitCode: r.exitCode, exitExplained: explainExit(r.exitCode, r.oomKilled), tail });
    const problems: string[] = [];
    for (const [m, err] of Object.entries(out.imports)) if (err) problems.push(`import ${m} failed: ${err}`);
    for (const [d, constraint] of Object.entries(t.distributions)) {
      const v = out.dists[d];
      if (!v) problems.push(`distribution ${d} is not installed`);
      else if (!versionSatisfies(v, constraint)) problems.push(`${d} ${v} does not satisfy ${constraint}`);
    }
    if (problems.length) throw new Failure(problems.join('; '), { expected: [...t.imports.map((m) => `import ${m}`), ...Object.entries(t.distributions).map(([d, c]) => `${d}${c}`)].join(', '), actual: JSON.stringify(out), tail });
  });
}

async function runFile(ctx: Ctx, t: Extract<SmokeTest, { kind: 'file' }>): Promise<void> {
  // Read from a created, never-started container: no tool in the image is needed.
  await withContainer(ctx, { ...baseSpec(ctx, { ...t, gpu: false }), entrypoint: ['/nonexistent-never-started'] }, async (c) => {
    const st = await c.stat(t.path, t.contains !== undefined ? 1 << 20 : 0);
    if (!t.exists) {
      if (st.exists) throw new Failure(`${t.path} exists`, { expected: 'absent', actual: `a ${st.type}` });
      return;
    }
    if (!st.exists) throw new Failure(`${t.path} does not exist`, { expected: 'exists', actual: 'absent' });
    const problems: { e: string; a: string }[] = [];
    const mode = `0${st.mode.toString(8).padStart(3, '0')}`;
    if (t.executable !== undefined && ((st.mode & 0o111) !== 0) !== t.executable) problems.push({ e: t.executable ? 'executable' : 'not executable', a: `mode ${mode}` });
    if (t.mode !== undefined && parseInt(t.mode, 8) !== st.mode) problems.push({ e: `mode 0${parseInt(t.mode, 8).toString(8)}`, a: `mode ${mode}` });
    if (t.owner !== undefined) {
      const [u, g] = t.owner.split(':').map(Number);
      if (st.uid !== u || (g !== undefined && st.gid !== g)) problems.push({ e: `owner ${t.owner}`, a: `owner ${st.uid}:${st.gid}` });
    }
    if (t.contains !== undefined && !(st.content ?? Buffer.alloc(0)).toString('utf8').includes(t.contains)) problems.push({ e: `content contains ${JSON.stringify(t.contains)}`, a: 'not found in the first MiB' });
    if (problems.length) throw new Failure(problems.map((p) => `${p.e}, got ${p.a}`).join('; '), { expected: problems.map((p) => p.e).join('; '), actual: problems.map((p) => p.a).join('; ') });
  });
}

function runMetadata(ctx: Ctx, t: Extract<SmokeTest, { kind: 'metadata' }>): void {
  const img = ctx.image;
  const problems: { e: string; a: string }[] = [];
  if (t.user !== undefined && img.user !== t.user) problems.push({ e: `user ${JSON.stringify(t.user)}`, a: JSON.stringify(img.user) });
  if (t.workdir !== undefined && img.workdir !== t.workdir) problems.push({ e: `workdir ${t.workdir}`, a: img.workdir });
  for (const [k, v] of Object.entries(t.env ?? {})) {
    const got = img.env.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1);
    if (got !== v) problems.push({ e: `env ${k}=${v}`, a: got === undefined ? `${k} unset` : `${k}=${got}` });
  }
  if (t.entrypoint !== undefined && !deepEqual(img.entrypoint ?? [], t.entrypoint)) problems.push({ e: `entrypoint ${JSON.stringify(t.entrypoint)}`, a: JSON.stringify(img.entrypoint) });
  if (t.cmd !== undefined && !deepEqual(img.cmd ?? [], t.cmd)) problems.push({ e: `cmd ${JSON.stringify(t.cmd)}`, a: JSON.stringify(img.cmd) });
  for (const [k, v] of Object.entries(t.labels ?? {})) if (img.labels[k] !== v) problems.push({ e: `label ${k}=${v}`, a: img.labels[k] === undefined ? 'unset' : img.labels[k]! });
  for (const p of t.exposedPorts ?? []) if (!img.exposedPorts.includes(`${p}/tcp`)) problems.push({ e: `exposed port ${p}`, a: img.exposedPorts.join(', ') || 'none' });
  if (problems.length) throw new Failure(problems.map((p) => `expected ${p.e}, got ${p.a}`).join('; '), { expected: problems.map((p) => p.e).join('; '), actual: problems.map((p) => p.a).join('; ') });
}

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
async function httpFrom(ctx: Ctx, t: SmokeTest, server: ContainerHandle, req: { port: number; path: string; method: string; body?: string | undefined; timeoutS: number }, signal: AbortSignal, client: HttpClient): Promise<HttpAnswer> {
  const ans = await httpFromInside(client.via, req, signal, client);
  if (!('error' in ans) || ans.error !== NO_CLIENT || client.probe) return client.probe && 'error' in ans && ans.error === NO_CLIENT ? { error: `no HTTP client in the probe image ${ctx.opts.probeImage} either (looked for python3 and curl)` } : ans;
  if (!ctx.opts.probeImage) return { error: `${NO_CLIENT}; set smoke.probeImage to an image that has one (it joins the server's network namespace to send the requests)` };
  // A container of the probe image in the server's network namespace (loopback only: the server has no network).
  const probe = await ctx.engine.createContainer({ ...baseSpec(ctx, { ...t, gpu: false }), image: ctx.opts.probeImage, entrypoint: ['sleep'], cmd: [String(Math.ceil(parseDuration(ctx.opts.timeout) / 1000))], networkOf: server.id });
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

async function httpFromInside(c: ContainerHandle, req: { port: number; path: string; method: string; body?: string | undefined; timeoutS: number }, signal: AbortSignal, client: Pick<HttpClient, 'kind'>): Promise<HttpAnswer> {
  const missing = (r: { exitCode: number; stdout: string; stderr: string }) => r.exitCode === 126 || r.exitCode === 127 || /executable file not found|no such file or directory/i.test(r.stderr + r.stdout);
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

async function runServe(ctx: Ctx, t: Extract<SmokeTest, { kind: 'serve' }>, signal: AbortSignal): Promise<void> {
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

async function serveChecks(ctx: Ctx, t: Extract<SmokeTest, { kind: 'serve' }>, c: ContainerHandle, client: HttpClient, readyDeadline: number, signal: AbortSignal): Promise<void> {
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
        throw new Failure(`not ready after ${t.readyTimeout} (last answer: ${last})`, { expected: `GET ${readyPath} answers${t.readyPath ? ' 2xx' : ''}`, actual: last, tail: tailLines(`${logs.stdout}\n${logs.stderr}`) });
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

/** A file worth reading for the CUDA check: shared objects (their SONAME), dpkg's status, dist-info folders. */
function cudaWant(e: FsEntry): number | null {
  if (e.type === 'directory') return /\.dist-info\/?$/.test(e.path) ? 0 : null;
  if (e.path === 'var/lib/dpkg/status' && e.type === 'file') return 64 << 20;
  const base = e.path.slice(e.path.lastIndexOf('/') + 1);
  if (!/\.so(\.\d+)*$/.test(base)) return null;
  // The head of a shared object holds its dynamic section and strings (SONAME) on every linker we know.
  return e.type === 'file' ? 1 << 20 : e.type === 'symlink' || e.type === 'link' ? 0 : null;
}

async function runCudaVariant(ctx: Ctx, t: Extract<SmokeTest, { kind: 'cuda-variant' }>, signal: AbortSignal): Promise<void> {
  const declared = t.cuda ?? ctx.image.labels[CUDA_LABEL];
  if (!declared) throw new Failure(`no CUDA version to check against: the image has no ${CUDA_LABEL} label`, { expected: 'a CUDA version', actual: 'none; set cuda on the test' });
  const major = Number(declared.split('.')[0]);
  // Read from a created, never-started container: no tool in the image is needed.
  await withContainer(ctx, { ...baseSpec(ctx, { ...t, gpu: false }), entrypoint: ['/nonexistent-never-started'] }, async (c) => {
    const found: Found[] = [];
    await c.walkFiles(cudaWant, (entry, head) => {
      const base = entry.path.replace(/\/$/, '').slice(entry.path.replace(/\/$/, '').lastIndexOf('/') + 1);
      if (entry.type === 'directory') {
        const d = distInfoOf(base);
        if (d) found.push({ kind: 'python', name: d.name, version: d.version, path: `/${entry.path.replace(/\/$/, '')}` });
      } else if (entry.path === 'var/lib/dpkg/status') {
        for (const p of dpkgPackages(head.toString('utf8'))) found.push({ kind: 'dpkg', name: p.name, version: p.version, path: '/var/lib/dpkg/status' });
      } else {
        found.push({ kind: 'library', name: base, path: `/${entry.path}` });
        const soname = entry.type === 'file' ? elfDynamic(head)?.soname : null;
        if (soname && soname !== base) found.push({ kind: 'library', name: soname, path: `/${entry.path}` });
      }
    }, signal);
    const { wrong } = cudaMismatches(found, major, t.allow);
    if (wrong.length) {
      const shown = wrong.slice(0, 20).map((w) => `${w.kind} ${w.name}${w.version ? ` ${w.version}` : ''} (CUDA ${w.cudaMajor}) at ${w.path}`);
      throw new Failure(`${wrong.length} item(s) built for another CUDA than ${major}: ${shown.join('; ')}${wrong.length > 20 ? `; and ${wrong.length - 20} more` : ''}`, {
        expected: `only CUDA ${major} packages and libraries (or allow-listed, with a reason)`,
        actual: shown.join('\n'),
      });
    }
  });
}

/** Python distributions and Debian packages in an image, read through its export. */
async function installedIn(ctx: Ctx, image: string, t: SmokeTest, signal: AbortSignal): Promise<Installed[]> {
  return withContainer(ctx, { ...baseSpec(ctx, { ...t, gpu: false }), image, entrypoint: ['/nonexistent-never-started'] }, async (c) => {
    const want = (e: FsEntry) => (e.type === 'directory' && /\.dist-info\/?$/.test(e.path) ? 0 : e.path === 'var/lib/dpkg/status' && e.type === 'file' ? 64 << 20 : null);
    const out: Installed[] = [];
    await c.walkFiles(
      want,
      (entry, head) => {
        if (entry.type === 'directory') {
          const p = entry.path.replace(/\/$/, '');
          const d = distInfoOf(p.slice(p.lastIndexOf('/') + 1));
          if (d) out.push({ kind: 'python', name: d.name, version: d.version, where: `/${p.slice(0, p.lastIndexOf('/'))}` });
        } else for (const p of dpkgPackages(head.toString('utf8'))) out.push({ kind: 'dpkg', name: p.name, version: p.version, where: '/var/lib/dpkg/status' });
      },
      signal,
    );
    return out;
  });
}

async function runOverlay(ctx: Ctx, t: Extract<SmokeTest, { kind: 'overlay' }>, signal: AbortSignal): Promise<OverlayDelta> {
  const against = t.against ?? ctx.image.labels['org.opencontainers.image.base.name'];
  if (!against) throw new Failure('no engine image to compare with: the image has no org.opencontainers.image.base.name label', { expected: 'an engine image', actual: 'none; set against on the test' });
  const upstream = await ctx.engine.inspectImage(against);
  if (!upstream) throw new Failure(`the engine image ${against} is not on this engine`, { expected: `${against} present`, actual: 'absent (pull it first)' });
  const [engine, result] = [await installedIn(ctx, upstream.id, t, signal), await installedIn(ctx, ctx.image.id, t, signal)];
  // The overlay's own layers: the result's history above the engine image's.
  const [hu, hr] = [await ctx.engine.imageHistory(upstream.id), await ctx.engine.imageHistory(ctx.image.id)];
  const layers = hr.slice(0, Math.max(0, hr.length - hu.length)).map((h) => ({ createdBy: h.createdBy.slice(0, 200), bytes: h.size })).filter((l) => l.bytes > 0);
  const delta = overlayDelta(engine, result, layers);
  const wrong = overlayViolations(delta, t.allow);
  if (wrong.length)
    throw new Failure(`the overlay changed ${wrong.length} package(s) the engine image ${against} owns: ${wrong.slice(0, 20).join('; ')}${wrong.length > 20 ? `; and ${wrong.length - 20} more` : ''}`, {
      expected: `the engine image's packages as they are (or allow-listed, with a reason)`,
      actual: wrong.join('\n'),
      data: delta,
    });
  return delta;
}

const LOADERS = ['lib64/ld-linux-x86-64.so.2', 'lib/ld-linux-aarch64.so.1', 'lib/ld-linux-x86-64.so.2', 'usr/lib64/ld-linux-x86-64.so.2'];
const SLEEPS = ['bin/sleep', 'usr/bin/sleep'];
const MAX_LIBRARY_FILES = 5000;

async function runLibraries(ctx: Ctx, t: Extract<SmokeTest, { kind: 'libraries' }>, signal: AbortSignal): Promise<void> {
  const roots = t.paths.map((p) => p.replace(/^\/+/, '').replace(/\/+$/, ''));
  const inScope = (p: string) => /(^|\/)(site|dist)-packages\//.test(p) || roots.some((r) => p === r || p.startsWith(`${r}/`));
  // sleep keeps the container up for the loader's runs (exec); the image's own, by PATH.
  await withContainer(ctx, { ...baseSpec(ctx, { ...t, gpu: false }), entrypoint: ['sleep'], cmd: [String(Math.ceil(parseDuration(t.timeout ?? '10m') / 1000))] }, async (c) => {
    let loader: string | null = null;
    let sleep: string | null = null;
    const targets: string[] = [];
    await c.walkFiles(
      (e) => (LOADERS.includes(e.path) || SLEEPS.includes(e.path) ? 0 : e.type === 'file' && inScope(e.path) && !/\/stubs\//.test(e.path) ? 20 : null),
      (entry, head) => {
        if (LOADERS.includes(entry.path)) loader ??= `/${entry.path}`;
        else if (SLEEPS.includes(entry.path)) sleep ??= `/${entry.path}`;
        // ELF shared objects and executables (e_type 2 or 3), not scripts or data.
        else if (isElf(head) && head.length >= 18 && [2, 3].includes(head[5] === 2 ? head.readUInt16BE(16) : head.readUInt16LE(16))) targets.push(`/${entry.path}`);
      },
      signal,
    );
    if (!loader) throw new Failure(`no dynamic loader in the image (looked for /${LOADERS.join(', /')})`);
    if (!sleep) throw new Failure('the libraries test runs the loader beside sleep: the image has no /bin/sleep or /usr/bin/sleep');
    if (targets.length > MAX_LIBRARY_FILES) throw new Failure(`${targets.length} native files to check, more than ${MAX_LIBRARY_FILES}`, { expected: `at most ${MAX_LIBRARY_FILES}`, actual: 'narrow paths' });
    try {
      await c.start();
    } catch (e) {
      throw startFailure(e) ?? e;
    }
    const ld: string = loader;
    const problems: string[] = [];
    const allowed = (s: string) => t.allow.some((a) => globMatch(a.name, s));
    for (const file of targets) {
      if (allowed(file)) continue;
      const r = await c.exec([ld, file], signal, ['LD_TRACE_LOADED_OBJECTS=1']);
      const res = parseTrace(r.stdout);
      res.missing = res.missing.filter((m) => !allowed(m));
      if (res.missing.length) problems.push(`${file} needs ${res.missing.join(', ')}: not found`);
      for (const s of res.stubs) problems.push(`${file}: ${s.name} resolves to the stub ${s.path}`);
    }
    for (const name of t.load) {
      const r = await c.exec([ld, '--preload', name, sleep], signal, ['LD_TRACE_LOADED_OBJECTS=1']);
      if (preloadFailed(name, r.stderr)) {
        problems.push(`${name} is not found by the loader (LD_LIBRARY_PATH, ld.so.cache, the default folders), though something loads it by that name`);
        continue;
      }
      const res = parseTrace(r.stdout);
      if (res.missing.length) problems.push(`${name} (${res.resolved[name] ?? 'found'}) needs ${res.missing.join(', ')}: not found`);
      for (const s of res.stubs) problems.push(`${name}: ${s.name} resolves to the stub ${s.path}`);
    }
    if (problems.length)
      throw new Failure(`${problems.length} native load problem(s) in ${targets.length} file(s)${t.load.length ? ` and ${t.load.length} library name(s)` : ''}: ${problems.slice(0, 20).join('; ')}${problems.length > 20 ? `; and ${problems.length - 20} more` : ''}`, {
        expected: 'every needed library found by the image\'s own loader (the GPU driver\'s libcuda.so.1 and libnvidia-* are expected to be absent without one)',
        actual: problems.join('\n'),
      });
  });
}

async function runOne(ctx: Ctx, t: SmokeTest): Promise<TestResult> {
  const started = Date.now();
  const base = { name: t.name, kind: t.kind, gpu: t.gpu };
  if (t.gpu && ctx.opts.gpu === 'off') return { ...base, status: 'skipped', durationMs: 0, reason: 'GPU tests are off (--gpu off)' };
  if (t.gpu && !ctx.gpu.available) {
    if (ctx.opts.gpu === 'require') return { ...base, status: 'failed', durationMs: 0, reason: `--gpu require: ${ctx.gpu.detail}` };
    return { ...base, status: 'skipped', durationMs: 0, reason: ctx.gpu.detail };
  }
  // A driver too old for the image's CUDA fails every GPU test with the same one clear line.
  if (t.gpu && ctx.gpu.driver && !ctx.gpu.driver.ok) return { ...base, status: 'failed', durationMs: 0, reason: ctx.gpu.driver.detail };
  // The CUDA check reads the whole image (its export): minutes for a 30 GB engine image.
  const timeoutMs = parseDuration(t.timeout ?? (t.kind === 'serve' ? '120s' : t.kind === 'cuda-variant' || t.kind === 'libraries' || t.kind === 'overlay' ? '10m' : '60s'));
  const timer = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timer]);
  let data: unknown;
  try {
    const work = (async () => {
      if (t.kind === 'overlay') data = await runOverlay(ctx, t, signal);
      else if (t.kind === 'command') await runCommand(ctx, t, signal);
      else if (t.kind === 'python') await runPython(ctx, t, signal);
      else if (t.kind === 'file') await runFile(ctx, t);
      else if (t.kind === 'cuda-variant') await runCudaVariant(ctx, t, signal);
      else if (t.kind === 'libraries') await runLibraries(ctx, t, signal);
      else if (t.kind === 'metadata') runMetadata(ctx, t);
      else await runServe(ctx, t, signal);
    })();
    // The container is removed by the work's own `finally`; wait for it even after a timeout.
    await raceSignal(work, signal).catch(async (e: unknown) => {
      if (signal.aborted) {
        await work.catch(() => undefined);
        if (ctx.signal.aborted) throw ctx.signal.reason;
        throw new TimedOut();
      }
      throw e;
    });
    return { ...base, status: 'passed', durationMs: Date.now() - started, ...(data !== undefined ? { data } : {}) };
  } catch (e) {
    const durationMs = Date.now() - started;
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (e instanceof TimedOut) return { ...base, status: 'failed', durationMs, reason: `timed out after ${t.timeout ?? (t.kind === 'serve' ? '120s' : '60s')}; the container was removed` };
    if (e instanceof Failure) return { ...base, status: 'failed', durationMs, reason: e.reason, ...e.details };
    if (e instanceof OperationError) return { ...base, status: 'failed', durationMs, reason: e.message };
    throw e;
  }
}

/**
 * Reads the host driver's version in a GPU container of the image (nvidia-smi, which the driver's
 * files bring into the container) and checks it against the image's minimum for its CUDA.
 */
async function readDriver(ctx: Ctx, request: GpuRequest, signal: AbortSignal): Promise<NonNullable<GpuStatus['driver']>> {
  const minimum = ctx.image.labels[MIN_DRIVER_LABEL] ?? null;
  const cuda = ctx.image.labels[CUDA_LABEL] ?? null;
  const spec: ContainerSpec = {
    image: ctx.image.id,
    entrypoint: ['nvidia-smi', '--query-gpu=driver_version', '--format=csv,noheader'],
    labels: { [SMOKE_LABEL]: 'driver-check' },
    memoryBytes: parseBytes(ctx.opts.limits.memory),
    pidsLimit: ctx.opts.limits.pids,
    gpus: request,
  };
  let out: { exitCode: number; stdout: string; stderr: string };
  try {
    out = await withContainer(ctx, spec, async (c) => runToExit(ctx, c, AbortSignal.any([signal, AbortSignal.timeout(30_000)])));
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return { version: null, minimum, ok: true, detail: `driver version not read (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); not checked` };
  }
  if (out.exitCode !== 0) return { version: null, minimum, ok: true, detail: `driver version not read (nvidia-smi exited ${out.exitCode}); not checked` };
  const version = out.stdout.trim().split('\n')[0]!.trim();
  if (!minimum || !cuda) return { version, minimum, ok: true, detail: `driver ${version}; the image names no CUDA version or minimum driver (labels ${CUDA_LABEL}, ${MIN_DRIVER_LABEL}); not checked` };
  const v = checkDriver(version, minimum, cuda);
  return { version, minimum, ok: v.ok, detail: v.detail };
}

export async function runSmokeTests(engine: Engine, opts: SmokeOptions): Promise<SmokeReport> {
  const startedAt = new Date();
  const image = await engine.inspectImage(opts.image);
  if (!image) throw new OperationError('smoke.no-image', `no image ${opts.image} on the engine`, { hint: 'build it first: dynamo-image build RECIPE' });
  const needGpu = opts.tests.some((t) => t.gpu) || opts.gpu === 'require';
  const gpu: GpuStatus =
    opts.gpu === 'off'
      ? { available: false, detail: 'GPU tests are off (--gpu off)' }
      : needGpu
        ? await detectGpu(engine, image.id, { mode: opts.gpuRequest ?? 'auto', ...(opts.gpuDevices ? { devices: opts.gpuDevices } : {}) })
        : { available: false, detail: 'not checked (no GPU tests)' };
  const overall = AbortSignal.timeout(parseDuration(opts.timeout));
  const signal = AbortSignal.any([opts.signal, overall]);
  const ctx: Ctx = { engine, image, opts, gpu, signal };
  if (gpu.available && gpu.request && opts.tests.some((t) => t.gpu)) gpu.driver = await readDriver(ctx, gpu.request, signal);
  const results: TestResult[] = new Array(opts.tests.length);
  let next = 0;
  const worker = async () => {
    while (next < opts.tests.length) {
      const i = next++;
      const t = opts.tests[i]!;
      if (overall.aborted && !opts.signal.aborted) {
        results[i] = { name: t.name, kind: t.kind, gpu: t.gpu, status: 'failed', durationMs: 0, reason: `not run: the overall timeout (${opts.timeout}) passed` };
        continue;
      }
      let r: TestResult;
      try {
        r = await runOne(ctx, t);
      } catch (e) {
        if (overall.aborted && !opts.signal.aborted) r = { name: t.name, kind: t.kind, gpu: t.gpu, status: 'failed', durationMs: 0, reason: `the overall timeout (${opts.timeout}) passed` };
        else throw e;
      }
      results[i] = r;
      opts.onResult?.(r);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(opts.jobs, opts.tests.length || 1)) }, () => worker());
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((s) => s.status === 'rejected');
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
  if (opts.gpu === 'require' && !gpu.available && !opts.tests.some((t) => t.gpu))
    results.push({ name: 'GPU available', kind: 'command', gpu: true, status: 'failed', durationMs: 0, reason: `--gpu require: ${gpu.detail}` });
  const count = (s: string) => results.filter((r) => r.status === s).length;
  return {
    image: opts.display ?? opts.image,
    imageId: image.id,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    gpu: { ...gpu, mode: opts.gpu },
    results,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
  };
}
