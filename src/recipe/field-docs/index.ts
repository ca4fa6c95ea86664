import { BACKEND_FIELDS } from './backend.js';
import { BUILD_FIELDS } from './build.js';
import { RECIPE_FIELDS } from './recipe.js';
import { RELEASE_FIELDS } from './release.js';
import { SMOKE_FIELDS } from './smoke.js';
import type { FieldDocs } from './types.js';

// Only the JSON Schema's generator loads these (npm run schema, the library's recipeJsonSchema):
// the CLI never does, so their text costs a command's start-up nothing.

export type { FieldDocs } from './types.js';

/** Every field's words, one table: a path named twice is a mistake the generator reports. */
export const FIELD_DOCS_PARTS: readonly FieldDocs[] = [RECIPE_FIELDS, BACKEND_FIELDS, BUILD_FIELDS, SMOKE_FIELDS, RELEASE_FIELDS];
