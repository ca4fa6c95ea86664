import type { Recipe } from './schema.js';

/** Whether the recipe installs a Python package (so the image gets a venv and needs `python`). */
export function installsPython(r: Pick<Recipe, 'engine' | 'dynamo' | 'dependencies'>): boolean {
  return Boolean(r.engine.wheel || r.engine.index || r.dynamo || r.dependencies.wheels.length || r.dependencies.requirements);
}
