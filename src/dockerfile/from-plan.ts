import { BUILDER_LABEL, PLAN_DIGEST_LABEL, REQUIREMENTS_FILE, requirementsLock, TARGET_LABEL } from '../plan/build-plan.js';
import type { Plan } from '../plan/types.js';
import type { DockerfileAst, Instruction, Stage } from './ast.js';
import { RenderError, shellQuote } from './render.js';
import { withClampedTimes } from './reproducible.js';
import { aptInstall, aptSources, BUILD_TOOLS, indexArgs, keyringOf, pipInto, step, type RenderOptions } from './steps.js';

export type { RenderOptions } from './steps.js';

// plan -> Dockerfile syntax tree. Pure. Layer order: what changes least comes first, so an edit to
// the entrypoint, env or a small file never invalidates the engine's layers.

export type Target = 'runtime' | 'dev';
export const TARGETS: readonly Target[] = ['runtime', 'dev'];

const DYNAMO = '/opt/dynamo';
const WHEELHOUSE = `${DYNAMO}/wheelhouse`;
const STAGING = `${DYNAMO}/staging`;
/** The engine binary alone: its own layer in the runtime image, so a config edit never touches it. */
const ENGINE_STAGING = `${DYNAMO}/staging-engine`;
/** Large files (models): each staged here and copied into the runtime image as its own layer. */
const LARGE_STAGING = `${DYNAMO}/staging-large`;
/** Where the n-th large file is staged: under its full path; reproducible builds give each its own tree. */
function stagedLarge(plan: Plan, n: number): string {
  return plan.sourceDateEpoch !== undefined ? `${LARGE_STAGING}/${n}` : LARGE_STAGING;
}
/** A `files` entry of one file at least this big gets its own layer (a model, a tokenizer). */
export const LARGE_FILE_BYTES = 256 * 1024;

/**
 * The recipe's files that get a layer each: single files (not of a folder entry) of at least
 * LARGE_FILE_BYTES, biggest first. They are staged first in the framework stage and copied first
 * in the runtime image (after the images' imports), so editing a small file (a chat template, a
 * config) or the engine leaves their layers byte-identical.
 */
export function largeFiles(plan: Plan): Plan['inputs'] {
  return onePerDestination(plan.inputs.filter((i) => i.role === 'file' && !i.folder))
    .filter((i) => i.size >= LARGE_FILE_BYTES)
    .sort((a, b) => b.size - a.size || (a.destination! < b.destination! ? -1 : 1));
}

/**
 * A per-platform file is one input per platform with the same destination: the Dockerfile copies
 * it once, from `archSource` (`lib/${TARGETARCH}/libx.so`), sized by its biggest platform's file.
 */
function onePerDestination(files: Plan['inputs']): Plan['inputs'] {
  const out: Plan['inputs'] = [];
  for (const f of files) {
    if (!f.archSource) out.push(f);
    else if (!out.some((o) => o.archSource === f.archSource)) {
      const all = files.filter((x) => x.archSource === f.archSource);
      out.push({ ...f, contextPath: f.archSource, size: Math.max(...all.map((x) => x.size)) });
    }
  }
  return out;
}

/** COPY of a file into staging: a per-platform one by ${TARGETARCH} (declared once per stage). */
function copyFile(body: Instruction[], f: Plan['inputs'][number], dest: string): void {
  if (f.archSource && !body.some((i) => i.kind === 'arg' && i.name === 'TARGETARCH')) body.push({ kind: 'arg', name: 'TARGETARCH' });
  body.push({ kind: 'copy', sources: [f.contextPath], dest, ...(f.archSource ? { sourceForm: 'arch' as const } : {}) });
}

const CLASSIC: RenderOptions = { buildkit: false };

function frameworkStage(plan: Plan, o: RenderOptions): Stage {
  const body: Instruction[] = [];
  const args = Object.entries(plan.buildArgs);
  for (const [name, value] of args) body.push({ kind: 'arg', name, default: value });
  // Large files first, each with its own mode and owner: nothing after them re-runs their steps.
  for (const [n, f] of largeFiles(plan).entries()) {
    const staged = `${stagedLarge(plan, n)}${f.destination!}`;
    copyFile(body, f, staged);
    const fix = [
      ...(f.mode !== undefined ? [`chmod ${shellQuote(f.mode)} ${staged}`] : []),
      ...(f.owner !== undefined ? [`chown ${shellQuote(f.owner)} ${staged}`] : []),
    ];
    if (fix.length) body.push({ kind: 'run', shell: fix });
  }
  const venv = plan.runtime.venv;
  if (venv === null) {
    // Nothing Python to install (a binary engine): no venv, and the base needs no python3.
    body.push({ kind: 'run', shell: [`mkdir -p ${STAGING} ${ENGINE_STAGING}`] });
    return finishFramework(plan, body, o);
  }
  if (!plan.base.pythonIncluded) body.push(aptInstall(['python3', 'python3-venv'], o, plan.aptOptions));
  // Interpolated into a Python program below: only digits may get there, whatever the plan says.
  const m = /^(\d+)\.(\d+)$/.exec(plan.python ?? '');
  if (!m) throw new RenderError(`python ${JSON.stringify(plan.python)} is not MAJOR.MINOR`);
  const [, major, minor] = m;
  body.push({
    kind: 'run',
    shell: [
      `python3 -m venv ${BUILD_TOOLS}`,
      `python3 -m venv --without-pip${plan.engine.source.kind === 'image' ? ' --system-site-packages' : ''} ${venv}`,
      // Fails the build early when the base image's Python is not the recipe's.
      `${venv}/bin/python -c ${shellQuote(`import sys; v = sys.version_info[:2]; assert v == (${major}, ${minor}), f"base image has Python {v[0]}.{v[1]}, recipe says ${plan.python}"`)}`,
      `mkdir -p ${WHEELHOUSE} ${STAGING} ${ENGINE_STAGING}`,
    ],
  });
  // The Dynamo runtime changes rarely: before the engine (from an index; local Dynamo wheels are
  // installed with the dependencies below, hash-checked).
  if (plan.dynamo?.indexUrl) body.push(pipInto(venv, [...indexArgs(plan.dynamo.indexUrl), ...plan.dynamo.requirements], o, plan.dynamo.secret));
  const src = plan.engine.source;
  const lock = requirementsLock(plan);
  const req = plan.requirements;
  if (lock || req) {
    // Dependencies (and the engine wheel): every package hash-checked, every dependency named (pip
    // refuses an unpinned one); the recipe's wheels offline from the wheelhouse, a requirements
    // file's packages from its index (or the wheelhouse). The dependencies change least: first.
    const args: string[] = req?.index ? indexArgs(req.index.url) : ['--no-index'];
    if (lock) {
      const wheels = [...plan.dependencies.map((d) => d.input), ...plan.inputs.filter((i) => i.role === 'dynamo-wheel').map((i) => i.contextPath)];
      body.push({ kind: 'copy', sources: wheels, dest: `${WHEELHOUSE}/` });
      body.push({ kind: 'copy', sources: [REQUIREMENTS_FILE], dest: `${DYNAMO}/requirements.lock.txt` });
      if (src.kind === 'wheel') body.push({ kind: 'copy', sources: [src.input], dest: `${WHEELHOUSE}/` });
      args.push('--find-links', WHEELHOUSE);
    }
    if (req) body.push({ kind: 'copy', sources: [req.input], dest: `${DYNAMO}/requirements.txt` });
    args.push('--require-hashes', ...(lock ? ['-r', `${DYNAMO}/requirements.lock.txt`] : []), ...(req ? ['-r', `${DYNAMO}/requirements.txt`] : []));
    body.push(pipInto(venv, args, o, req?.index?.secret ?? null));
  }
  if (src.kind === 'wheel' && !lock) {
    const name = src.input.split('/').pop()!;
    body.push({ kind: 'copy', sources: [src.input], dest: `${WHEELHOUSE}/` });
    body.push(pipInto(venv, ['--no-index', '--no-deps', `${WHEELHOUSE}/${name}`], o));
  } else if (src.kind === 'index') {
    body.push(pipInto(venv, [...indexArgs(src.indexUrl), src.requirement], o, src.secret));
  }
  return finishFramework(plan, body, o);
}

/** The engine binary, the recipe's framework steps and the small files: the end of every framework stage. */
function finishFramework(plan: Plan, body: Instruction[], o: RenderOptions): Stage {
  const src = plan.engine.source;
  if (src.kind === 'binary') {
    // One file per platform: the builder names the platform it builds for (BuildKit sets
    // TARGETARCH; the classic builder gets it as a build argument).
    if (src.input.includes('{arch}') && !body.some((i) => i.kind === 'arg' && i.name === 'TARGETARCH')) body.push({ kind: 'arg', name: 'TARGETARCH' });
    body.push({
      kind: 'copy',
      sources: [src.input],
      dest: `${ENGINE_STAGING}${src.installPath}`,
      ...(src.input.includes('{arch}') ? { sourceForm: 'arch' as const } : {}),
    });
    body.push({ kind: 'run', shell: [`chmod 0755 ${ENGINE_STAGING}${src.installPath}`] });
  }
  // The recipe's own steps: after the engine, before the small files (an edited config file does
  // not re-run them).
  for (const st of plan.steps.filter((x) => x.stage === 'framework')) body.push(step(st, o));
  // Group-writable venv (OpenShift: an arbitrary UID in group 0 may pip install into it): the
  // modes travel with COPY --from, so the runtime image gets them without a second layer.
  if (plan.runtime.groupWritable && plan.runtime.venv) body.push({ kind: 'run', shell: [`chmod -R g+w ${plan.runtime.venv}`] });
  // Small files last: editing one re-runs only these steps.
  const large = new Set(largeFiles(plan).map((f) => f.destination));
  const files = onePerDestination(plan.inputs.filter((i) => i.role === 'file')).filter((i) => i.folder || !large.has(i.destination));
  // A folder entry is one COPY of its folder (140 files are one layer, not 140), unless another
  // input lies in that folder of the context too (it would be copied with it): then file by file.
  const copied = new Set<string>();
  for (const f of files) {
    const folder = f.folder;
    if (folder && folder.source !== '.' && folder.source !== '') {
      if (copied.has(folder.source)) continue;
      const shared = plan.inputs.some((x) => x.contextPath.startsWith(`${folder.source}/`) && x.folder?.source !== folder.source);
      if (!shared) {
        copied.add(folder.source);
        body.push({ kind: 'copy', sources: [`${folder.source}/`], dest: `${STAGING}${folder.destination}/` });
        continue;
      }
    }
    copyFile(body, f, `${STAGING}${f.destination!}`);
  }
  const modes = files.filter((f) => f.mode !== undefined);
  if (modes.length) body.push({ kind: 'run', shell: modes.map((f) => `chmod ${shellQuote(f.mode!)} ${STAGING}${f.destination!}`) });
  const owned = files.filter((f) => f.owner !== undefined);
  if (owned.length) body.push({ kind: 'run', shell: owned.map((f) => `chown ${shellQuote(f.owner!)} ${STAGING}${f.destination!}`) });
  return { name: 'framework', from: plan.base.builder, body };
}

function runtimeStage(plan: Plan, o: RenderOptions): Stage {
  const rt = plan.runtime;
  const { uid, gid, name } = rt.user;
  const reproducible = plan.sourceDateEpoch !== undefined;
  const body: Instruction[] = [];
  const pkgs = [...(plan.base.pythonIncluded || rt.venv === null ? [] : ['python3']), ...plan.systemPackages];
  // Extra repositories: each signing key copied from the context (pinned), each list file written
  // with the image's architecture where the URI names it; then one apt step installs everything.
  for (const a of plan.aptRepositories) body.push({ kind: 'copy', sources: [a.key], dest: keyringOf(a) });
  if (plan.aptRepositories.length) body.push({ kind: 'run', shell: aptSources(plan.aptRepositories) });
  if (pkgs.length) body.push(aptInstall(pkgs, o, plan.aptOptions));
  body.push({
    kind: 'run',
    shell: [
      // The runtime user is created only when the base has no user with that UID; an existing one
      // (Ubuntu's `ubuntu`, an upstream engine image's own user) is kept with its home.
      // replaceExisting (Dynamo's convention): the base's user with this UID goes, home and all.
      ...(rt.user.replaceExisting ? [`(! getent passwd ${uid} >/dev/null || userdel -r "$(getent passwd ${uid} | cut -d: -f1)" >/dev/null 2>&1 || true)`] : []),
      `(getent group ${gid} >/dev/null || groupadd --gid ${gid} ${shellQuote(name)})`,
      `(getent passwd ${uid} >/dev/null || useradd --uid ${uid} --gid ${gid} --create-home --shell /bin/sh ${shellQuote(name)})`,
      ...(rt.user.replaceExisting ? [`test "$(getent passwd ${uid} | cut -d: -f1)" = ${shellQuote(name)}`] : []),
      ...(rt.workdir ? [`mkdir -p ${shellQuote(rt.workdir)}`, `chown ${uid}:${gid} ${shellQuote(rt.workdir)}`, `chmod 0775 ${shellQuote(rt.workdir)}`] : []),
      // Files a login shell creates stay group-writable (umask is a shell builtin, not a variable).
      ...(rt.groupWritable ? ['mkdir -p /etc/profile.d', "echo 'umask 002' > /etc/profile.d/00-umask.sh"] : []),
      ...(reproducible && rt.venv !== null ? [`mkdir -p ${rt.venv}`, ...(rt.groupWritable ? [`chown ${uid}:${gid} ${rt.venv}`] : [])] : []),
    ],
  });
  // Files from other images (JIT tools from the devel image, nats-server, etcd, uv, NIXL/UCX):
  // pinned by reference, they change rarely, so they come before the venv, the engine and the small files.
  for (const im of plan.imports)
    for (const p of im.paths) body.push({ kind: 'copy', from: im.image, sources: [p.source], dest: p.destination, sourceForm: 'glob' });
  // Large files (models), a layer each, biggest first: they are the biggest and change least.
  // Reproducible: each from its own tree onto / (a COPY to a new name sets its parent's time).
  for (const [n, f] of largeFiles(plan).entries()) {
    if (reproducible) body.push({ kind: 'copy', from: 'framework', sources: [`${stagedLarge(plan, n)}/`], dest: '/' });
    else body.push({ kind: 'copy', from: 'framework', sources: [`${LARGE_STAGING}${f.destination!}`], dest: f.destination! });
  }
  if (rt.venv !== null) {
    const chown = rt.groupWritable ? { chown: `${uid}:${gid}` } : {};
    // Reproducible: into the folder the RUN above made, which then takes the source folder's time.
    if (reproducible) body.push({ kind: 'copy', from: 'framework', sources: [`${rt.venv}/`], dest: `${rt.venv}/`, ...chown });
    else body.push({ kind: 'copy', from: 'framework', sources: [rt.venv], dest: rt.venv, ...chown });
    body.push({
      kind: 'env',
      vars: [
        { name: 'VIRTUAL_ENV', value: rt.venv },
        { name: 'PATH', value: `${rt.venv}/bin:\${PATH}`, raw: true },
      ],
    });
  }
  // The engine binary, then the files: two layers, the one that changes least first.
  if (plan.engine.source.kind === 'binary') body.push({ kind: 'copy', from: 'framework', sources: [`${ENGINE_STAGING}/`], dest: '/' });
  body.push({ kind: 'copy', from: 'framework', sources: [`${STAGING}/`], dest: '/' });
  for (const st of plan.steps.filter((x) => x.stage === 'runtime')) body.push(step(st, o));
  const env = Object.entries(rt.env);
  if (env.length) body.push({ kind: 'env', vars: env.map(([k, v]) => ({ name: k, value: v, refs: true })) });
  if (rt.workdir) body.push({ kind: 'workdir', path: rt.workdir });
  body.push({ kind: 'user', user: `${uid}:${gid}` });
  if (rt.ports.length) body.push({ kind: 'expose', ports: rt.ports });
  if (rt.healthcheck) {
    const h = rt.healthcheck;
    body.push({ kind: 'healthcheck', command: h.command, interval: h.interval, timeout: h.timeout, startPeriod: h.startPeriod, retries: h.retries });
  }
  // The plan digest goes last: the up-to-date check finds the image by it.
  body.push({ kind: 'label', labels: [...Object.entries(plan.labels), [PLAN_DIGEST_LABEL, plan.digest]] });
  if (rt.entrypoint) body.push({ kind: 'entrypoint', argv: rt.entrypoint });
  if (rt.command) body.push({ kind: 'cmd', argv: rt.command });
  return { name: 'runtime', from: plan.base.runtime, body };
}

function devStage(plan: Plan): Stage {
  const venv = plan.runtime.venv;
  // Without Python the dev image is the runtime image, run as root.
  if (venv === null)
    return {
      name: 'dev',
      from: 'runtime',
      body: [
        { kind: 'user', user: 'root' },
        { kind: 'label', labels: [[TARGET_LABEL, 'dev']] },
      ],
    };
  return {
    name: 'dev',
    from: 'runtime',
    body: [
      { kind: 'user', user: 'root' },
      { kind: 'copy', from: 'framework', sources: [BUILD_TOOLS], dest: BUILD_TOOLS },
      { kind: 'copy', from: 'framework', sources: [WHEELHOUSE], dest: WHEELHOUSE },
      {
        kind: 'env',
        vars: [
          // `pip install X` in the dev image installs into the runtime venv.
          { name: 'PIP_PYTHON', value: `${venv}/bin/python` },
          { name: 'PATH', value: `\${PATH}:${BUILD_TOOLS}/bin`, raw: true },
        ],
      },
      { kind: 'label', labels: [[TARGET_LABEL, 'dev']] },
    ],
  };
}

/**
 * The builders put `network: 'default'` on what downloads; with per-step networks every other RUN
 * is made `none`, without them the marks go (every RUN has the build's network).
 */
function withStepNetwork(stage: Stage, perStep: boolean): Stage {
  const body = stage.body.map((i): Instruction => {
    if (i.kind !== 'run' && i.kind !== 'run-exec') return i;
    const { network, ...rest } = i;
    return perStep ? { ...rest, network: network ?? 'none' } : rest;
  });
  return { ...stage, body };
}

export function dockerfileFromPlan(plan: Plan, target: Target = 'dev', o: RenderOptions = CLASSIC): DockerfileAst {
  const stages = [frameworkStage(plan, o), runtimeStage(plan, o)];
  if (target === 'dev') stages.push(devStage(plan));
  // Classic builds: every RUN's container carries this label (from the stage's config), so the
  // one an engine crash leaves behind is found and removed by the next build (builder/leftovers.ts).
  if (!o.buildkit) for (const s of stages.slice(0, 2)) s.body.unshift({ kind: 'label', labels: [[BUILDER_LABEL, 'classic']] });
  const epoch = plan.sourceDateEpoch;
  if (epoch !== undefined) for (let i = 0; i < stages.length; i++) stages[i] = withClampedTimes(stages[i]!, epoch, i === 0 ? DYNAMO : undefined);
  const perStep = o.buildkit && o.stepNetwork === true;
  for (let i = 0; i < stages.length; i++) stages[i] = withStepNetwork(stages[i]!, perStep);
  return {
    header: [
      `Generated by dynamo-image ${plan.tool.version} for ${plan.image.name} ${plan.image.version} (plan ${plan.digest}).`,
      'Do not edit: change the recipe and run `dynamo-image render`.',
    ],
    globalArgs: [],
    stages,
  };
}
