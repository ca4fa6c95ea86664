import type { Issue } from '../errors.js';
import type { Plan } from './types.js';

// Bounds on what becomes layers and build-context entries, checked before any work (issue 19,
// point 7). overlayfs stacks at most 128 lower layers and Docker refuses an image past 125 ("max
// depth exceeded"); the base image brings its own, so a stage of ours gets 100. Pure.

/** Filesystem layers (RUN, COPY) one stage of ours may add to its base. */
export const MAX_STAGE_LAYERS = 100;
export const MAX_STEPS = 50;
/** Files below one `files` folder entry (one COPY takes them all). */
export const MAX_FILES_PER_FOLDER = 10_000;
/** Files the recipe names in all, folders expanded. */
export const MAX_INPUTS = 20_000;

/**
 * The RUN and COPY instructions each stage gets (dockerfile/from-plan.ts), counted from the plan at
 * their most: the tool's own (venv, installs, user, the staging copies) and one per step, per
 * single file, per folder, per apt key and per imported path.
 */
export function stageLayers(plan: Plan): { framework: number; runtime: number } {
  const files = plan.inputs.filter((i) => i.role === 'file');
  const copies = new Set(files.map((f) => (f.folder ? `folder:${f.folder.source}` : `file:${f.contextPath}`))).size;
  const steps = (stage: 'framework' | 'runtime') => plan.steps.filter((s) => s.stage === stage).length;
  // venv, up to 2 installs, 3 COPY of wheels/lock/requirements, engine COPY + chmod, g+w, chmod/chown of files.
  const framework = 10 + steps('framework') + copies;
  // apt list + apt install + user, venv/engine/staging COPY.
  const runtime = 6 + plan.aptRepositories.length + plan.imports.reduce((n, im) => n + im.paths.length, 0) + steps('runtime');
  return { framework, runtime };
}

export function layerLimits(plan: Plan, file: string, where: (p: (string | number)[]) => { line: number; col: number }): Issue[] {
  const out: Issue[] = [];
  if (plan.steps.length > MAX_STEPS)
    out.push({
      code: 'recipe.too-many-steps',
      severity: 'error',
      file,
      ...where(['steps', MAX_STEPS]),
      path: ['steps'],
      message: `${plan.steps.length} steps, more than ${MAX_STEPS}: each is a layer`,
      hint: 'join steps into one script',
    });
  const layers = stageLayers(plan);
  for (const stage of ['framework', 'runtime'] as const)
    if (layers[stage] > MAX_STAGE_LAYERS)
      out.push({
        code: 'recipe.too-many-layers',
        severity: 'error',
        file,
        ...where(stage === 'framework' ? ['files'] : ['imports']),
        path: [stage === 'framework' ? 'files' : 'imports'],
        message: `the ${stage} stage would add up to ${layers[stage]} layers, more than ${MAX_STAGE_LAYERS} (overlayfs stacks at most 128, the base image has its own)`,
        hint:
          stage === 'framework'
            ? 'put files that go to one place into one folder and name the folder (one COPY), or join steps'
            : 'import a folder instead of its files, or join steps',
      });
  return out;
}
