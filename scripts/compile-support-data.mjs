// Writes dist/support-data.json: the shipped support data, parsed and checked once at build time
// (see COMPILED_SUPPORT_DATA in src/support/load.ts). Run by `npm run build`, after tsc.
import { writeFileSync } from 'node:fs';
import { COMPILED_SUPPORT_DATA, compileSupportData } from '../dist/support/load.js';

writeFileSync(COMPILED_SUPPORT_DATA, `${JSON.stringify(compileSupportData())}\n`);
