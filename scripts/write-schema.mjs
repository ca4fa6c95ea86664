// Writes schema/recipe.schema.json (the zod schema's shape with each field's words from
// src/recipe/field-docs/) and the README's recipe reference made from that schema. Run through
// `npm run schema`, which builds first.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { recipeJsonSchema, recipeJsonSchemaText, withReferenceTable } from '../dist/recipe/json-schema.js';

const schema = recipeJsonSchema();
mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
writeFileSync(new URL('../schema/recipe.schema.json', import.meta.url), recipeJsonSchemaText(schema));
console.log('wrote schema/recipe.schema.json');
const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withReferenceTable(readFileSync(readme, 'utf8'), schema));
console.log("wrote README.md's recipe reference");
