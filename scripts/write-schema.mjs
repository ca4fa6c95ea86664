// Regenerates schema/recipe.schema.json from the zod schema. Run through `npm run schema`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { recipeJsonSchemaText } from '../dist/recipe/json-schema.js';

mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
writeFileSync(new URL('../schema/recipe.schema.json', import.meta.url), recipeJsonSchemaText());
console.log('wrote schema/recipe.schema.json');
