import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError, type Issue } from '../errors.js';
import { hashFile } from '../plan/digest-cache.js';
import { tryPlanRecipe } from '../plan/make-plan.js';
import { scaffoldInputPath, scaffoldRecipe, type ScaffoldAnswers } from '../recipe/scaffold.js';
import { PACKAGE_ROOT } from '../support/load.js';

// `init`: the scaffolded recipe is validated in a scratch folder first, so an invalid one writes
// nothing; then the input is copied next to the recipe and the recipe written.

export async function writeScaffold(args: {
  dir: string;
  source: string;
  force: boolean;
  answers: Omit<ScaffoldAnswers, 'sha256' | 'fileName'>;
}): Promise<{ ok: true; recipeFile: string; rel: string; sha256: string } | { ok: false; recipeFile: string; issues: Issue[] }> {
  const dir = path.resolve(args.dir);
  const recipeFile = path.join(dir, 'recipe.yaml');
  if (!args.force && (await stat(recipeFile).catch(() => null)))
    throw new UsageError(`${recipeFile} exists`, 'use --force to overwrite it, or --dir for another folder');
  const fileName = path.basename(args.source);
  const rel = scaffoldInputPath(args.answers.kind, fileName);
  const sha256 = await hashFile(args.source);
  // The schema as a path that exists, relative to the new recipe: the checkout's or the installed package's.
  const schemaRef = path
    .relative(dir, path.join(PACKAGE_ROOT, 'schema', 'recipe.schema.json'))
    .split(path.sep)
    .join('/');
  const text = scaffoldRecipe({ ...args.answers, fileName, sha256 }, schemaRef);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'dynamo-image-init-'));
  try {
    await mkdir(path.join(scratch, path.dirname(rel)), { recursive: true });
    await copyFile(args.source, path.join(scratch, rel));
    await writeFile(path.join(scratch, 'recipe.yaml'), text);
    const r = await tryPlanRecipe(path.join(scratch, 'recipe.yaml'));
    if (!r.ok) return { ok: false, recipeFile, issues: r.issues.map((i) => ({ ...i, file: recipeFile })) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await mkdir(path.join(dir, path.dirname(rel)), { recursive: true });
  await copyFile(args.source, path.join(dir, rel));
  await writeFile(recipeFile, text);
  return { ok: true, recipeFile, rel, sha256 };
}
