/**
 * The words for a recipe's fields, by field path (`engine.wheel.sha256`, `smoke.tests[].kind`):
 * `[type / default, meaning]`. Markdown. They become each field's `title` and `description` in the
 * JSON Schema (schema/recipe.schema.json), and the README's recipe reference is made from those.
 */
export type FieldDocs = Readonly<Record<string, readonly [typeAndDefault: string, meaning: string]>>;
