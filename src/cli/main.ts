import { Command, CommanderError, Option } from 'commander';
import { DynamoImageError, ExitCode, InputError, ReportedFailure, UsageError } from '../errors.js';
import type { BuildFlags, PublishFlags } from './build-options.js';
import { flag } from './flags.js';
import { TOOL_VERSION } from '../version.js';
import { holdSecret, printIssues, processOutput, type Output } from './output.js';

// The only place that decides exit codes and how errors look. Commands are loaded on demand, so
// `render` never loads the engine client.

export function makeProgram(o: Output, setExit: (code: number) => void, argv: string[] = []): Command {
  const program = new Command('dynamo-image')
    .description('Build, test and publish runtime images of LLM inference backends from a recipe')
    .version(TOOL_VERSION)
    .option('--debug', 'show stack traces of internal errors')
    .exitOverride()
    .configureOutput({ writeOut: (s) => o.out(s.trimEnd()), writeErr: (s) => o.err(s.trimEnd()) })
    .showHelpAfterError('(run with --help for usage)')
    // zod is set up only when a command runs, so --version and --help stay light.
    .hook('preAction', async () => {
      await import('./zod-config.js');
    });

  const add = (cmd: Command, ...options: Option[]) => options.reduce((c, x) => c.addOption(x), cmd);
  const smokeFlags = (jobsHelp: string) => [flag('gpu'), flag('gpuDevices'), flag('gpuRequest'), flag('jobs', { help: jobsHelp }), flag('junit')];

  program
    .command('validate')
    .description('check recipes: schema, support matrix, input files and digests')
    .argument('<files...>', 'recipe files')
    .addOption(flag('allowUnsupported'))
    .addOption(flag('quiet', { help: 'print only problems' }))
    .action(async (files: string[], opts: { allowUnsupported?: boolean; quiet?: boolean }) => {
      const { runValidate } = await import('./commands/validate.js');
      setExit(await runValidate(files, opts, o));
    });

  program
    .command('plan')
    .description('print the fully resolved build plan')
    .argument('[recipe]', 'recipe file', 'recipe.yaml')
    .addOption(flag('json', { help: 'print the plan as JSON (planVersion 2)' }))
    .addOption(flag('allowUnsupported'))
    .addOption(flag('locked'))
    .addOption(flag('variant'))
    .addOption(flag('baseImage'))
    .action(async (file: string, opts: { json?: boolean; allowUnsupported?: boolean; locked?: boolean; variant?: string; baseImage?: string }) => {
      const { runPlan } = await import('./commands/plan.js');
      setExit(await runPlan(file, opts, o));
    });

  program
    .command('render')
    .description('print the Dockerfile rendered from the plan')
    .argument('[recipe]', 'recipe file', 'recipe.yaml')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .addOption(flag('target', { help: 'last stage to render (the same default as build)' }))
    .addOption(
      new Option('--builder <builder>', 'buildkit: package downloads in cache mounts; classic: without').choices(['buildkit', 'classic']).default('buildkit'),
    )
    .addOption(flag('allowUnsupported'))
    .addOption(flag('locked'))
    .addOption(flag('variant'))
    .addOption(flag('baseImage'))
    .action(
      async (
        file: string,
        opts: { output?: string; target: 'runtime' | 'dev'; builder: 'buildkit' | 'classic'; allowUnsupported?: boolean; locked?: boolean; variant?: string },
      ) => {
        const { runRender } = await import('./commands/render.js');
        setExit(await runRender(file, opts, o));
      },
    );

  add(
    program
      .command('build')
      .description('build the image on the Docker engine (up to date without work when nothing changed)')
      .argument('[recipes...]', 'recipe file (several, or folders, with --matrix)'),
    ...[
      flag('target'),
      flag('noCache'),
      flag('force'),
      flag('buildArg'),
      flag('tag'),
      flag('platform'),
      flag('cacheFrom'),
      flag('secret'),
      flag('builder'),
      flag('noTest'),
    ],
    ...smokeFlags('smoke tests in parallel (with --matrix: builds in parallel)'),
    ...[
      flag('network'),
      flag('json'),
      flag('quiet'),
      flag('allowUnsupported'),
      flag('locked'),
      flag('push'),
      flag('registry', { help: 'with --push: registry HOST[:PORT] instead of publish.registry' }),
    ],
    ...[flag('variant'), flag('baseImage'), flag('progress'), flag('matrix'), flag('failFast')],
  ).action(async (files: string[], flagValues: BuildFlags) => {
    // commander's --no-cache sets cache=false
    const opts = { ...flagValues, noCache: flagValues.cache === false, invocation: argv };
    if (opts.matrix) return setExit(await (await import('./commands/build-matrix.js')).runMatrixBuild(files, opts, o));
    if (opts.push) {
      if (files.length > 1) throw new UsageError(`build takes one recipe; got ${files.length}`, 'use --matrix to build several recipes and all their variants');
      return setExit(await (await import('./commands/publish.js')).runPublish(files[0] ?? 'recipe.yaml', opts, o));
    }
    setExit(await (await import('./commands/build.js')).runBuild(files, opts, o));
  });

  program
    .command('matrix')
    .description("expand recipes' matrices through the support matrix: JSON, a GitHub Actions matrix, or a docker-bake.json")
    .argument('<recipes...>', 'recipe files or folders')
    .addOption(
      new Option(
        '--format <format>',
        'output: json, github (one job per variant and platform), github-merge (the multi-platform variants, for publish --merge), bake',
      )
        .choices(['json', 'github', 'github-merge', 'bake'])
        .default('json'),
    )
    .option('--shard <I/N>', 'only shard I of N (stable, disjoint, covering)')
    .option('--explain', 'list included and excluded combinations, with the reasons, on stderr')
    .option('--command <cmd>', 'github: the command each entry runs', 'npx dynamo-image publish')
    .addOption(flag('baseImage'))
    .addOption(flag('allowUnsupported'))
    .action(async (args: string[], opts: import('./commands/matrix.js').MatrixCliOptions) => {
      const { runMatrix } = await import('./commands/matrix.js');
      setExit(await runMatrix(args, opts, o));
    });

  add(
    program
      .command('publish')
      .description('build (up to date when nothing changed), test, push every tag, and verify the digests in the registry')
      .argument('[recipe]', 'recipe file', 'recipe.yaml'),
    ...[flag('registry'), flag('progress'), flag('force', { help: 'move existing immutable tags to this image' })],
    new Option('--skip-tests', 'publish without running the smoke tests (the result says so)'),
    new Option(
      '--sign-key <file>',
      'sign each pushed image and attach its SBOM (SPDX 2.3), provenance (SLSA v1) and test outcome, as cosign reads them (a cosign or PKCS#8 ECDSA key; password from COSIGN_PASSWORD)',
    ),
    flag('platform', { help: 'a recipe for several platforms: build and push this one only (under TAG-ARCH), as a CI job on a runner of that architecture' }),
    new Option(
      '--merge',
      "a recipe for several platforms: put each tag's manifest list together from the platforms' pushed images (after the --platform jobs)",
    ),
    new Option(
      '--dry-run',
      'ask the registry (read-only) and print the plan: what is pushed, unchanged, copied or refused; build and push nothing (--json: the release plan)',
    ),
    ...[flag('json', { help: 'print {"pushed": [{"reference", "digest"}], ...} on stdout' }), flag('quiet')],
    ...smokeFlags('smoke tests in parallel'),
    ...[flag('builder'), flag('cacheFrom', { help: 'image to use as a cache source, e.g. the last release in the registry (repeatable)' }), flag('secret')],
    ...[flag('allowUnsupported'), flag('locked'), flag('variant'), flag('baseImage')],
  ).action(async (file: string, flagValues: PublishFlags) => {
    // Building for a publish: the runtime target, the recipe's settings, smoke tests on; its --force moves tags.
    const opts = { target: 'runtime' as const, buildArg: [], tag: [], test: true, ...flagValues, force: false, forceTags: flagValues.force === true };
    setExit(await (await import('./commands/publish.js')).runPublish(file, opts, o));
  });

  const support = program
    .command('support')
    .description("the support data: which Dynamo release shipped which engines, on which CUDA; kept current from Dynamo's release data");
  support
    .command('import')
    .description("merge Dynamo's release data (releases.json, from its docs: fern/assets/releases.json) into base-images/support-matrix.yaml")
    .argument(
      '<source>',
      'releases.json: a file, or an https URL (plain http only to loopback); bounded in size and time (DYNAMO_IMAGE_SUPPORT_TIMEOUT_S, default 30)',
    )
    .option('--data <dir>', 'the folder with support-matrix.yaml (default: the one this tool ships)')
    .option('--dry-run', 'print the changes, write nothing')
    .option('--check', 'exit 1 when the support data is behind the release data (for CI); writes nothing')
    .option('--json', 'print the changes as JSON on stdout')
    .option('--cite-repo <repo>', 'the repository the file comes from', 'ai-dynamo/dynamo')
    .option('--cite-path <path>', 'its path there', 'fern/assets/releases.json')
    .option('--cite-commit <sha>', 'the commit it was read at (40 hex digits)')
    .action(async (file: string, opts: import('./commands/support-import.js').SupportImportOptions) => {
      const { runSupportImport } = await import('./commands/support-import.js');
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
      const { runSupportFind } = await import('./commands/support-find.js');
      setExit(runSupportFind(opts, o));
    });

  program
    .command('verify')
    .description("check an image's signature, provenance, SBOM and test outcome in its registry against a public key, and (--recipe) against a recipe")
    .argument('<image>', 'REGISTRY/REPOSITORY:TAG or @sha256:...')
    .requiredOption('--key <file>', 'the public key (cosign.pub: PEM) the release was signed with')
    .option('--recipe <file>', 'also check the image came from this recipe: its sha256, its plan and every pinned input')
    .addOption(flag('variant'))
    .addOption(flag('json', { help: 'print the verdict as JSON on stdout' }))
    .addOption(flag('allowUnsupported'))
    .action(async (image: string, opts: import('./commands/verify.js').VerifyOptions) => {
      const { runVerify } = await import('./commands/verify.js');
      setExit(await runVerify(image, opts, o));
    });

  program
    .command('why')
    .description('why is this not up to date: what changed the build key since the image was built (input, pin, flag, base, tool version)')
    .argument('[recipe]', 'recipe file', 'recipe.yaml')
    .option('--image <ref>', "the image to compare with (default: the recipe's local tag; a registry reference is read from the registry)")
    .addOption(flag('target', { help: 'runtime or dev' }))
    .addOption(flag('buildArg', { help: 'as given to build (repeatable)' }))
    .addOption(flag('platform', { help: 'as given to build' }))
    .addOption(flag('variant'))
    .addOption(flag('json', { help: 'print the changes as JSON on stdout' }))
    .addOption(flag('allowUnsupported'))
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
    .addOption(flag('allowUnsupported'))
    .action(async (file: string, opts: { json?: boolean; allowUnsupported?: boolean }) => {
      const { runLock } = await import('./commands/lock.js');
      setExit(await runLock(file, opts, o));
    });

  program
    .command('pin')
    .description("recompute the sha256 of the recipe's local inputs (engine wheel or binary) and write them into the recipe, keeping its comments and layout")
    .argument('[recipe]', 'recipe file', 'recipe.yaml')
    .option('--json', 'print the changes as JSON on stdout')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { runPin } = await import('./commands/pin.js');
      setExit(await runPin(file, opts, o));
    });

  program
    .command('test')
    .description("run smoke tests inside an image: a recipe's built image, or an image with --tests FILE")
    .argument('<target>', 'recipe file, or image reference')
    .option('--tests <file>', "YAML with the tests (the shape of a recipe's smoke: section)")
    .addOption(flag('gpu'))
    .addOption(flag('gpuDevices'))
    .addOption(flag('gpuRequest'))
    .addOption(flag('jobs', { help: 'tests in parallel' }))
    .addOption(flag('json', { help: 'print the report as JSON on stdout' }))
    .addOption(flag('junit'))
    .addOption(flag('quiet', { help: 'print only failures' }))
    .addOption(flag('variant'))
    .addOption(flag('baseImage'))
    .action(async (target: string, opts: import('./smoke-output.js').SmokeCliOptions) => {
      const { runTest } = await import('./commands/test.js');
      setExit(await runTest(target, opts, o));
    });

  program
    .command('init')
    .description('scaffold a recipe for a custom backend (a Python wheel or a binary); prompts only on a terminal')
    .option('--dir <dir>', 'folder of the new recipe', '.')
    .option('--wheel <path>', "the backend's wheel (copied next to the recipe)")
    .option('--binary <path>', "the backend's executable (copied next to the recipe)")
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
    .action(async (opts: import('./init-questions.js').InitOptions) => {
      const { runInit } = await import('./commands/init.js');
      setExit(await runInit(opts, o));
    });

  return program;
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
