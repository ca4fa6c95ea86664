// Records every module the process loads into $TRACE_LOADS_FILE, one path or URL a line (used to
// prove that `render` never loads the engine client, and which path answered a `build`):
// - ES modules, through a resolve hook (trace-loads-hooks.mjs);
// - CommonJS files, through Module._load (the bundled CLI loads its outside packages with require);
// - the CLI's bundles, which bin/bundle-loader.js compiles with vm.Script: the file it names.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import vm from 'node:vm';

const file = process.env.TRACE_LOADS_FILE;
register('./trace-loads-hooks.mjs', import.meta.url, { data: { file } });

if (file) {
  const record = (what) => appendFileSync(file, `${what}\n`);
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    let resolved = request;
    try {
      resolved = Module._resolveFilename(request, parent, isMain);
    } catch {
      // recorded as asked for; the real load below reports the error
    }
    record(resolved);
    return load.apply(this, arguments);
  };
  const Script = vm.Script;
  vm.Script = class extends Script {
    constructor(code, options) {
      super(code, options);
      if (options?.filename) record(options.filename);
    }
  };
}
