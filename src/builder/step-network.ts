import { DynamoImageError, ExitCode } from '../errors.js';
import { planFetches } from '../plan/build-plan.js';
import type { Plan } from '../plan/types.js';

// Which network a build gets, and whether each RUN says its own. Pure.
//
// The engine's build API takes one network mode for the whole build. A step that asked for no
// network must not get one because another step downloads: BuildKit's `RUN --network=none` keeps
// it offline (the Dockerfile says so per RUN). A builder that cannot (the classic builder, BuildKit
// inside Docker before 23.0, whose Dockerfile frontend does not know the flag) refuses a build that
// would put such a step on a network, rather than widen it silently.

export type BuildNetwork = 'none' | 'default' | 'host';

export interface NetworkChoice {
  /** The build's network: the widest any step needs (or what --network asked for). */
  network: BuildNetwork;
  /** Render `RUN --network=none|default` on every RUN (see RenderOptions.stepNetwork). */
  stepNetwork: boolean;
}

export interface BuilderCapability {
  builder: 'buildkit' | 'classic';
  /** BuildKit's Dockerfile frontend takes `RUN --network` (EngineInfo.runNetwork). */
  runNetwork: boolean;
  /** For the message: the engine's version. */
  engine: string;
}

export function chooseNetwork(plan: Plan, requested: BuildNetwork | undefined, cap: BuilderCapability): NetworkChoice {
  const network: BuildNetwork = requested ?? (planFetches(plan) ? 'default' : 'none');
  if (network === 'none') return { network, stepNetwork: false };
  if (cap.builder === 'buildkit' && cap.runNetwork) return { network, stepNetwork: true };
  const offline = plan.steps.filter((s) => !s.network);
  if (offline.length) {
    const why = requested ? `--network ${requested}` : `${needsWhat(plan)} needs the network`;
    const who = cap.builder === 'classic' ? 'the classic builder' : `BuildKit in this engine (Docker ${cap.engine}; RUN --network needs Docker 23.0 or later)`;
    throw new DynamoImageError(
      'build.step-network',
      `step ${JSON.stringify(offline[0]!.name)} asked for no network, but ${why}, and ${who} gives one network to every step: it would run on the ${network} network`,
      {
        exitCode: ExitCode.badInput,
        hint: 'build with BuildKit on Docker 23.0 or later (each step then gets only the network it asked for), or vendor the downloads into the recipe folder and build with --network none, or mark the step network: true if it may use the network',
      },
    );
  }
  return { network, stepNetwork: false };
}

/** What makes a plan download, for messages. */
function needsWhat(plan: Plan): string {
  const src = plan.engine.source;
  if (src.kind === 'index') return 'the engine install from its index';
  if (plan.dynamo?.indexUrl) return 'the Dynamo install from its index';
  if (plan.requirements?.index) return 'the requirements install from its index';
  if (plan.systemPackages.length || (plan.runtime.venv !== null && !plan.base.pythonIncluded)) return 'the apt install';
  const s = plan.steps.find((x) => x.network);
  return s ? `step ${JSON.stringify(s.name)}` : 'the build';
}
