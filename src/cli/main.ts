import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DynamoImageError, ExitCode, InputError, ReportedFailure } from '../errors.js';
import { IMAGE_REF_RE, referencePathIsLowercase } from '../refs/image-ref.js';
import { TOOL_VERSION } from '../version.js';
import { holdSecret, printIssues, processOutput, type Output } from './output.js';

// The only place that decides exit codes and how errors look. Commands are loaded on demand, so
// `render` never loads the engine client.

function makeProgram(o: Output, setExit: (code: number) => void, argv: string[] = []): Command {
  const program = new Command('dynamo-image')
    .description('Build, test and publish runtime images of LLM inference backends from a recipe')
    .version(TOOL_VERSION)
    .option('--debug', 'show stack traces of internal errors')
    .exitOverride()
    .configureOutput({ writeOut: (s) => o.out(s.trimEnd()), writeErr: (s) => o.err(s.trimEnd()) })
    .showHelpAfterError('(run with --help for usage)')
    // A CLI parses each schema a few times: zod's JIT compilation costs more than it saves here.
    // Loaded only when a command runs, so --version and --help stay light.
    .hook('preAction', async () => {
      (await import('zod')).z.config({ jitless: true });
    });

  const locked = new Option('--locked', 'use the digests in recipe.lock.yaml for every image named by tag (refuse names it lacks)');
  const variantOpt = () => new Option('--variant <axes>', 'one variant of the recipe\'s matrix, e.g. cuda=12.9,platform=linux/arm64');
  const baseImageOpt = () =>
    new Option('--base-image <ref>', 'base image instead of the recipe\'s base.image (e.g. a mirror, or what a CI runner can pull)').argParser((v: string) => {
      if (!IMAGE_REF_RE.test(v) || !referencePathIsLowercase(v)) throw new InvalidArgumentError('is not a valid image reference (e.g. python:3.11-slim-bookworm)');
      return v;
    });
  // Smoke-test options shared by build, test and publish.
  const gpuOpt = () => new Option('--gpu <mode>', 'GPU tests: auto (run where GPUs can be requested), require, off').choices(['auto', 'require', 'off']).default('auto');
  const gpuDevicesOpt = () => new Option('--gpu-devices <ids>', 'GPU ids for GPU tests, comma-separated: 0,1 (or CDI names, nvidia.com/gpu=0) (default: all)');
  const gpuRequestOpt = () =>
    new Option('--gpu-request <way>', 'how GPU tests ask for GPUs: auto (NVIDIA runtime when registered, else CDI), nvidia (as --gpus), cdi (as --device nvidia.com/gpu=N)').choices(['auto', 'nvidia', 'cdi']).default('auto');
  const jobsOpt = (what: string) => new Option('-j, --jobs <n>', what).argParser(parseIntOption).default(2);
  const junitOpt = () => new Option('--junit <file>', 'write the smoke tests\' JUnit XML report');
  const progressOpt = () => new Option('--progress <mode>', 'build progress: auto (a live view on a terminal, plain lines elsewhere or with TERM=dumb), tty, plain, json (one object per event)').choices(['auto', 'tty', 'plain', 'json']).default('auto');
  const allowUnsupported = new Option('--allow-unsupported', 'build combinations the support matrix does not list (recorded in the plan as a warning)');

  program
    .command('validate')
    .description('check recipes: schema, support matrix, input files and digests')
    .argument('<files...>', 'recipe files')
    .addOption(allowUnsupported)
    .option('-q, --quiet', 'print only problems')
    .action(async (files: string[], opts: { allowUnsupported?: boolean; quiet?: boolean }) => {
      const { runValidate } = await import('./commands/validate.js');
      setExit(await runValidate(files, opts, o));
    });

  program
    .command('plan')
    .description('print the fully resolved build plan')
    .argument('[recipe]', 'recipe file', 'recipe.yaml')
    .option('--json', 'print the plan as JSON (planVersion 2)')
    .addOption(allowUnsupported)
    .addOption(locked)
    .addOption(variantOpt())
    .addOption(baseImageOpt())
    .action(async (file: string, opts: { json?: boolean; allowUnsupported?: boolean; locked?: boolean; variant?: string; baseImage?: string }) => {
      const { runPlan } = await import('./commands/plan.js');
      setExit(await runPlan(file, opts, o));
    });

  program
    .command('render')
    .description('print the Dockerfile rendered from the plan')
    .argument('[recipe]', 'recipe file', 'recipe.yaml')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .addOption(new Option('--target <target>', 'last stage to render (the same default as build)').choices(['runtime', 'dev']).default('runtime'))
    .addOption(new Option('--builder <builder>', 'buildkit: package downloads in cache mounts; classic: without').choices(['buildkit', 'classic']).default('buildkit'))
    .addOption(allowUnsupported)
    .addOption(locked)
    .addOption(variantOpt())
    .addOption(baseImageOpt())
    .action(async (file: string, opts: { output?: string; target: 'runtime' | 'dev'; builder: 'buildkit' | 'classic'; allowUnsupported?: boolean; locked?: boolean; variant?: string }) => {
      const { runRender } = await import('./commands/render.js');
      setExit(await runRender(file, opts, o));
    });

  const collect = (v: string, prev: string[]) => [...prev, v];
  program
    .command('build')
    .description('build the image on the Docker engine (up to date without work when nothing changed)')
    .argument('[recipes...]', 'recipe file (several, or folders, with --matrix)')
    .addOption(new Option('--target <target>', 'stage to build').choices(['runtime', 'dev']).default('runtime'))
    .option('--no-cache', 'do not use the engine\'s layer cache (implies a rebuild)')
    .option('--force', 'rebuild even when an image of this plan exists')
    .option('--build-arg <NAME=VALUE>', 'build argument (repeatable)', collect, [])
    .option('-t, --tag <ref>', 'extra tag (repeatable)', collect, [])
    .option('--platform <platform>', 'one of the recipe\'s platforms, e.g. linux/amd64')
    .option('--cache-from <ref>', 'image to use as a cache source (repeatable)', collect, [])
    .option('--secret <spec>', 'build secret for steps that read it: id=NAME,src=FILE or id=NAME,env=VARIABLE (repeatable; BuildKit)', collect, [])
    .addOption(new Option('--builder <builder>', 'builder to use').choices(['auto', 'buildkit', 'classic']).default('auto'))
    .option('--no-test', 'do not run the recipe\'s smoke tests before tagging')
    .addOption(gpuOpt())
    .addOption(gpuDevicesOpt())
    .addOption(gpuRequestOpt())
    .addOption(jobsOpt('smoke tests in parallel (with --matrix: builds in parallel)'))
    .addOption(junitOpt())
    .addOption(new Option('--network <mode>', 'network of RUN steps (default: none when the plan downloads nothing)').choices(['none', 'default', 'host']))
    .option('--json', 'print one JSON object with the result on stdout')
    .option('-q, --quiet', 'no progress output')
    .addOption(allowUnsupported)
    .addOption(locked)
    .option('--push', 'publish after building (as `dynamo-image publish`)')
    .option('--registry <host>', 'with --push: registry HOST[:PORT] instead of publish.registry')
    .addOption(variantOpt())
    .addOption(baseImageOpt())
    .addOption(progressOpt())
    .option('--matrix', 'build every variant of every recipe given (files or folders); --jobs builds in parallel')
    .option('--fail-fast', 'with --matrix: cancel the other builds at the first failure')
    .action(async (files: string[], opts: Record<string, unknown>) => {
      const { runBuild } = await import('./commands/build.js');
      // commander's --no-cache sets cache=false
      setExit(await runBuild(files, { ...(opts as never as import('./build-options.js').BuildCliOptions), noCache: opts['cache'] === false, invocation: argv }, o));
    });

  program
    .command('matrix')
    .description('expand recipes\' matrices through the support matrix: JSON, a GitHub Actions matrix, or a docker-bake.json')
    .argument('<recipes...>', 'recipe files or folders')
    .addOption(new Option('--format <format>', 'output: json, github (one job per variant and platform), github-merge (the multi-platform variants, for publish --merge), bake').choices(['json', 'github', 'github-merge', 'bake']).default('json'))
    .option('--shard <I/N>', 'only shard I of N (stable, disjoint, covering)')
    .option('--explain', 'list included and excluded combinations, with the reasons, on stderr')
    .option('--command <cmd>', 'github: the command each entry runs', 'npx dynamo-image publish')
    .addOption(baseImageOpt())
    .addOption(allowUnsupported)
    .action(async (args: string[], opts: { format: 'json' | 'github' | 'github-merge' | 'bake'; shard?: string; explain?: boolean; allowUnsupported?: boolean; command?: string; baseImage?: string }) => {
      const { runMatrix } = await import('./commands/matrix.js');
      setExit(await runMatrix(args, opts, o));
    });

  program
    .command('publish')
    .description('build (up to date when nothing changed), test, push every tag, and verify the digests in the registry')
    .argument('[recipe]', 'recipe file', 'recipe.yaml')
    .option('--registry <host>', 'registry HOST[:PORT][/NAMESPACE] instead of publish.registry')
    .addOption(progressOpt())
    .option('--force', 'move existing immutable tags to this image')
    .option('--skip-tests', 'publish without running the smoke tests (the result says so)')
    .option('--platform <platform>', 'a recipe for several platforms: build and push this one only (under TAG-ARCH), as a CI job on a runner of that architecture')
    .option('--merge', 'a recipe for several platforms: put each tag\'s manifest list together from the platforms\' pushed images (after the --platform jobs)')
    .option('--dry-run', 'ask the registry (read-only) and print the plan: what is pushed, unchanged, copied or refused; build and push nothing')
    .option('--json', 'print {"pushed": [{"reference", "digest"}], ...} on stdout')
    .option('-q, --quiet', 'no progress output')
    .addOption(gpuOpt())
    .addOption(gpuDevicesOpt())
    .addOption(gpuRequestOpt())
    .addOption(jobsOpt('smoke tests in parallel'))
    .addOption(junitOpt())
    .addOption(new Option('--builder <builder>', 'builder to use').choices(['auto', 'buildkit', 'classic']).default('auto'))
    .option('--cache-from <ref>', 'image to use as a cache source, e.g. the last release in the registry (repeatable)', collect, [])
    .option('--secret <spec>', 'build secret for steps that read it: id=NAME,src=FILE or id=NAME,env=VARIABLE (repeatable; BuildKit)', collect, [])
    .addOption(allowUnsupported)
    .addOption(locked)
    .addOption(variantOpt())
    .addOption(baseImageOpt())
    .action(async (file: string, opts: Record<string, unknown>) => {
      const { runPublish } = await import('./commands/publish.js');
      // Building for a publish: the runtime target, the recipe's settings, smoke tests on.
      const full = { target: 'runtime', buildArg: [], tag: [], cacheFrom: [], test: true, ...opts } as never as import('./commands/publish.js').PublishCliOptions;
      setExit(await runPublish(file, { ...full, force: false, forceTags: opts['force'] === true }, o));
    });

  const support = program.command('support').description('the support data: which Dynamo release shipped which engines, on which CUDA; kept current from Dynamo\'s release data');
  support
    .command('import')
    .description('merge Dynamo\'s release data (releases.json, from its docs: fern/assets/releases.json) into base-images/support-matrix.yaml')
    .argument('<source>', 'releases.json: a file, or an https URL (plain http only to loopback); bounded in size and time (DYNAMO_IMAGE_SUPPORT_TIMEOUT_S, default 30)')
    .option('--data <dir>', 'the folder with support-matrix.yaml (default: the one this tool ships)')
    .option('--dry-run', 'print the changes, write nothing')
    .option('--check', 'exit 1 when the support data is behind the release data (for CI); writes nothing')
    .option('--json', 'print the changes as JSON on stdout')
    .option('--cite-repo <repo>', 'the repository the file comes from', 'ai-dynamo/dynamo')
    .option('--cite-path <path>', 'its path there', 'fern/assets/releases.json')
    .option('--cite-commit <sha>', 'the commit it was read at (40 hex digits)')
    .action(async (file: string, opts: import('./commands/support.js').SupportImportOptions) => {
      const { runSupportImport } = await import('./commands/support.js');
      setExit(await runSupportImport(file, opts, o));
    });
  support
    .command('list')
    .description('every Dynamo release in the support data, with its engines and CUDA toolkits')
    .option('--framework <name>', 'vllm, sglang or trtllm')
    .option('--json', 'print as JSON on stdout')
    .action(async (opts: { framework?: string; json?: boolean }) => {
      const { runSupportList } = await import('./commands/support.js');
      setExit(runSupportList(opts, o));
    });
  support
    .command('show')
    .description('one Dynamo release: engines, CUDA, drivers, NIXL, UCX, variants, notes and sources')
    .argument('<version>', 'a Dynamo release, e.g. 1.7.0')
    .option('--json', 'print as JSON on stdout')
    .action(async (version: string, opts: { json?: boolean }) => {
      const { runSupportShow } = await import('./commands/support.js');
      setExit(runSupportShow(version, opts, o));
    });

  support
    .command('find')
    .description('which Dynamo releases shipped this engine (and CUDA toolkit), newest first')
    .requiredOption('--engine <framework[spec]>', 'e.g. vllm==0.31.0, "sglang>=0.5.20", trtllm')
    .option('--cuda <toolkit>', 'e.g. 13.0')
    .option('--json', 'print the matching rows as JSON on stdout')
    .action(async (opts: { engine?: string; cuda?: string; json?: boolean }) => {
      const { runSupportFind } = await import('./commands/support.js');
      setExit(runSupportFind(opts, o));
    });

  program
    .command('why')
    .description('why is this not up to date: what changed the build key since the image was built (input, pin, flag, base, tool version)')
    .argument('[recipe]', 'recipe file', 'recipe.yaml')
    .option('--image <ref>', "the image to compare with (default: the recipe's local tag; a registry reference is read from the registry)")
    .addOption(new Option('--target <target>', 'runtime or dev').choices(['runtime', 'dev']).default('runtime'))
    .option('--build-arg <NAME=VALUE>', 'as given to build (repeatable)', collect, [])
    .option('--platform <platform>', 'as given to build')
    .addOption(variantOpt())
    .option('--json', 'print the changes as JSON on stdout')
    .addOption(allowUnsupported)
    .action(async (file: string, opts: import('./commands/why.js').WhyOptions) => {
      const { runWhy } = await import('./commands/why.js');
      setExit(await runWhy(file, opts, o));
    });

  program
    .command('compat')
    .description("does the image's CUDA run on this host's NVIDIA driver (--driver, or nvidia-smi's); if not, the newest image line that does")
    .argument('<image>', 'image on the local engine')
    .option('--driver <version>', "the host's NVIDIA driver, e.g. 575.57.08 (default: what nvidia-smi says here)")
    .option('--json', 'print the verdict as JSON on stdout')
    .action(async (image: string, opts: { driver?: string; json?: boolean }) => {
      const { runCompat } = await import('./commands/compat.js');
      setExit(await runCompat(image, opts, o));
    });

  program
    .command('lock')
    .description('resolve the images a recipe names by tag to digests (registry API) and write recipe.lock.yaml')
    .argument('[recipe]', 'recipe file', 'recipe.yaml')
    .option('--json', 'print the lock as JSON on stdout')
    .addOption(allowUnsupported)
    .action(async (file: string, opts: { json?: boolean; allowUnsupported?: boolean }) => {
      const { runLock } = await import('./commands/lock.js');
      setExit(await runLock(file, opts, o));
    });

  program
    .command('pin')
    .description('recompute the sha256 of the recipe\'s local inputs (engine wheel or binary) and write them into the recipe, keeping its comments and layout')
    .argument('[recipe]', 'recipe file', 'recipe.yaml')
    .option('--json', 'print the changes as JSON on stdout')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { runPin } = await import('./commands/pin.js');
      setExit(await runPin(file, opts, o));
    });

  program
    .command('test')
    .description('run smoke tests inside an image: a recipe\'s built image, or an image with --tests FILE')
    .argument('<target>', 'recipe file, or image reference')
    .option('--tests <file>', 'YAML with the tests (the shape of a recipe\'s smoke: section)')
    .addOption(gpuOpt())
    .addOption(gpuDevicesOpt())
    .addOption(gpuRequestOpt())
    .addOption(jobsOpt('tests in parallel'))
    .option('--json', 'print the report as JSON on stdout')
    .addOption(junitOpt())
    .option('-q, --quiet', 'print only failures')
    .addOption(variantOpt())
    .addOption(baseImageOpt())
    .action(async (target: string, opts: import('./smoke-output.js').SmokeCliOptions) => {
      const { runTest } = await import('./commands/test.js');
      setExit(await runTest(target, opts, o));
    });

  program
    .command('init')
    .description('scaffold a recipe for a custom backend (a Python wheel or a binary); prompts only on a terminal')
    .option('--dir <dir>', 'folder of the new recipe', '.')
    .option('--wheel <path>', 'the backend\'s wheel (copied next to the recipe)')
    .option('--binary <path>', 'the backend\'s executable (copied next to the recipe)')
    .option('--install-path <path>', 'binary: where it goes in the image (default /usr/local/bin/NAME)')
    .option('--name <name>', 'image name')
    .option('--image-version <semver>', 'image version (semver)')
    .option('--entrypoint <command>', 'entrypoint, words separated by spaces')
    .option('--command <args>', 'default arguments (CMD), words separated by spaces')
    .option('--port <port>', 'port the backend listens on')
    .option('--cuda <version>', 'CUDA version of the base (base image table)')
    .option('--base-image <ref>', 'explicit base image instead of --cuda')
    .option('--python <version>', 'Python version')
    .option('-y, --yes', 'never prompt; take defaults')
    .option('--force', 'overwrite an existing recipe.yaml')
    .action(async (opts: import('./commands/init.js').InitOptions) => {
      const { runInit } = await import('./commands/init.js');
      setExit(await runInit(opts, o));
    });

  return program;
}

export function parseIntOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

export async function main(argv: string[], o: Output = processOutput): Promise<number> {
  // The registry password is held from the start: masked wherever it could be printed.
  const password = process.env['DYNAMO_IMAGE_REGISTRY_PASSWORD'];
  if (password) holdSecret(password);
  let exit: number = ExitCode.ok;
  const program = makeProgram(o, (c) => (exit = c), argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.ok;
      return ExitCode.badInput;
    }
    if (e instanceof InputError) {
      printIssues(o, e.issues);
      const n = e.issues.filter((i) => i.severity === 'error').length;
      o.err(`${e.message}: ${n} error${n === 1 ? '' : 's'}`);
      return e.exitCode;
    }
    if (e instanceof ReportedFailure) {
      o.err(e.message);
      return e.exitCode;
    }
    if (e instanceof DynamoImageError) {
      o.err(`error[${e.code}]: ${e.message}`);
      if ('tail' in e && Array.isArray(e.tail) && e.tail.length) {
        o.err('--- last lines of output ---');
        for (const l of e.tail as string[]) o.err(`  ${l}`);
      }
      if (e.hint) o.err(`hint: ${e.hint}`);
      if (program.opts<{ debug?: boolean }>().debug && e.stack) o.err(e.stack);
      return e.exitCode;
    }
    const err = e as Error;
    o.err(`internal error (this is a bug in dynamo-image): ${err?.message ?? String(e)}`);
    if (program.opts<{ debug?: boolean }>().debug || process.env['DYNAMO_IMAGE_DEBUG']) o.err(err?.stack ?? '');
    else o.err('run with --debug for the stack trace');
    return ExitCode.failed;
  }
}
