// Records every module URL the process resolves into $TRACE_LOADS_FILE (used by the start-up test
// to prove `render` never loads the engine client).
import { register } from 'node:module';

register('./trace-loads-hooks.mjs', import.meta.url, { data: { file: process.env.TRACE_LOADS_FILE } });
