import type { SmokeTest } from '../../recipe/schema.js';
import { checkOutput, explainExit, extractVersion, tailLines, versionSatisfies } from '../checks.js';
import { parseResultLine, PYTHON_CHECK } from '../probes.js';
import { baseSpec, Failure, runToExit, withContainer, type Ctx } from '../context.js';

// The command, python and file tests (a command in a container), metadata (the image's config).

export async function runCommand(ctx: Ctx, t: Extract<SmokeTest, { kind: 'command' }>, signal: AbortSignal): Promise<void> {
  const [cmd0, ...rest] = t.command;
  await withContainer(ctx, { ...baseSpec(ctx, t), entrypoint: [cmd0!], cmd: rest }, async (c) => {
    const r = await runToExit(ctx, c, signal);
    const tail = tailLines(`${r.stdout}\n${r.stderr}`);
    if (r.oomKilled || r.exitCode !== t.exitCode)
      throw new Failure(`exit code ${r.exitCode}, expected ${t.exitCode}`, {
        expected: `exit code ${t.exitCode}`,
        actual: `exit code ${r.exitCode}`,
        exitCode: r.exitCode,
        exitExplained: explainExit(r.exitCode, r.oomKilled),
        tail,
      });
    const problems = [...checkOutput('stdout', r.stdout, t.stdout), ...checkOutput('stderr', r.stderr, t.stderr)];
    if (problems.length)
      throw new Failure(problems.map((p) => p.problem).join('; '), { expected: problems.map((p) => p.expected).join('; '), actual: tail.join('\n'), tail });
    if (t.version) {
      const v = extractVersion(`${r.stdout}\n${r.stderr}`, t.version.regex);
      if (!v)
        throw new Failure(`no version found by /${t.version.regex}/`, { expected: `a version matching /${t.version.regex}/`, actual: tail.join('\n'), tail });
      if (!versionSatisfies(v, t.version.constraint))
        throw new Failure(`version ${v} does not satisfy ${t.version.constraint}`, { expected: t.version.constraint, actual: v });
    }
  });
}

export async function runPython(ctx: Ctx, t: Extract<SmokeTest, { kind: 'python' }>, signal: AbortSignal): Promise<void> {
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
    if (problems.length)
      throw new Failure(problems.join('; '), {
        expected: [...t.imports.map((m) => `import ${m}`), ...Object.entries(t.distributions).map(([d, c]) => `${d}${c}`)].join(', '),
        actual: JSON.stringify(out),
        tail,
      });
  });
}

export async function runFile(ctx: Ctx, t: Extract<SmokeTest, { kind: 'file' }>): Promise<void> {
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
    if (t.executable !== undefined && ((st.mode & 0o111) !== 0) !== t.executable)
      problems.push({ e: t.executable ? 'executable' : 'not executable', a: `mode ${mode}` });
    if (t.mode !== undefined && parseInt(t.mode, 8) !== st.mode) problems.push({ e: `mode 0${parseInt(t.mode, 8).toString(8)}`, a: `mode ${mode}` });
    if (t.owner !== undefined) {
      const [u, g] = t.owner.split(':').map(Number);
      if (st.uid !== u || (g !== undefined && st.gid !== g)) problems.push({ e: `owner ${t.owner}`, a: `owner ${st.uid}:${st.gid}` });
    }
    if (t.contains !== undefined && !(st.content ?? Buffer.alloc(0)).toString('utf8').includes(t.contains))
      problems.push({ e: `content contains ${JSON.stringify(t.contains)}`, a: 'not found in the first MiB' });
    if (problems.length)
      throw new Failure(problems.map((p) => `${p.e}, got ${p.a}`).join('; '), {
        expected: problems.map((p) => p.e).join('; '),
        actual: problems.map((p) => p.a).join('; '),
      });
  });
}
