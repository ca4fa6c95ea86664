import * as z from 'zod';
import { Recipe } from './schema.js';

/** The JSON Schema of recipes, generated from the zod schema (committed as schema/recipe.schema.json). */
export function recipeJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Recipe, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: schema['$schema'],
    $id: 'https://dynamo-image.dev/schema/recipe.schema.json',
    title: 'dynamo-image recipe (apiVersion dynamo-image/v1)',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

export function recipeJsonSchemaText(): string {
  return `${JSON.stringify(recipeJsonSchema(), null, 2)}\n`;
}
