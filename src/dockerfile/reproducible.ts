import type { Instruction, Stage } from './ast.js';

/**
 * Reproducible layers (plan.sourceDateEpoch). Two builders with no shared cache write the same
 * bytes only if every file time in a layer is the same; what the tool does about each source of
 * time (measured with bench/reproducible.sh on Docker 26.1 BuildKit):
 *
 * - A RUN: it starts by noting the time (less 2 s: file times are coarser than `date`) and ends
 *   by setting every file newer than that to the epoch, in the same layer: what the RUN made or
 *   changed, and nothing of the base image (touching those would copy every file up into it).
 * - The framework stage ends with one RUN that sets everything under /opt/dynamo newer than the
 *   epoch to it: the folders its COPYs made (COPY makes a destination's parents with the time of
 *   the build), so the trees the runtime stage copies from carry only the epoch.
 * - The runtime stage copies trees onto existing folders (`src/` to `dest/`): BuildKit then gives
 *   the destination the source folder's time. A COPY of a folder or file to a new name changes
 *   its parent's time instead (a kernel write), so the venv's folder is made by the first RUN and
 *   each large file is staged in a tree of its own (see stagedLarge in from-plan.ts).
 * - The context's files carry the epoch (builder/run-build.ts); SOURCE_DATE_EPOCH is declared in
 *   each stage (pip then writes hash-based .pyc files, PEP 552) and passed as a build argument
 *   (BuildKit 0.11+ sets the config's `created` and the history times from it).
 *
 * Not clamped: RUN steps in exec form (a recipe's `steps` with `exec:`), COPYs from other images
 * (`imports`) and of apt signing keys, whose destination folders get the time of the build.
 */

/** The shell variable a clamped RUN keeps its start time in. */
const START = '_dynamo_t0';

/** The first command of a clamped RUN: its start, less 2 s. */
export const clampStart = `${START}=$(($(date +%s) - 2))`;

/**
 * The last command of a clamped RUN: every file under `root` newer than `since` gets the epoch.
 * Other mounts (/proc, /sys, /dev, caches, secrets: -xdev) and what the builder binds in
 * (/etc/hosts, /etc/resolv.conf, /etc/hostname) are left alone.
 */
export function clampCommand(epoch: number, since = `$${START}`, root = '/'): string {
  const prune = root === '/' ? '\\( -path /proc -o -path /sys -o -path /dev \\) -prune -o ' : '';
  const bound = root === '/' ? '! -path /etc/hosts ! -path /etc/resolv.conf ! -path /etc/hostname ' : '';
  return `find ${root} -xdev ${prune}-newermt @${since} ${bound}-exec touch -h -d @${epoch} {} +`;
}

/** Each stage: SOURCE_DATE_EPOCH declared first; each shell-form RUN clamped; the framework stage closed. */
export function withClampedTimes(stage: Stage, epoch: number, closeUnder?: string): Stage {
  const body = stage.body.map((i): Instruction => (i.kind === 'run' ? { ...i, shell: [clampStart, ...i.shell, clampCommand(epoch)] } : i));
  if (closeUnder) body.push({ kind: 'run', shell: [clampCommand(epoch, String(epoch), closeUnder)] });
  return { ...stage, body: [{ kind: 'arg', name: 'SOURCE_DATE_EPOCH', default: String(epoch) }, ...body] };
}
