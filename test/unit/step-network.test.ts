import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseNetwork, type BuilderCapability } from '../../src/builder/step-network.js';
import { dockerfileFromPlan } from '../../src/dockerfile/from-plan.js';
import { renderDockerfile } from '../../src/dockerfile/render.js';
import { DynamoImageError } from '../../src/errors.js';
import { planRecipe } from '../../src/plan/make-plan.js';
import type { Plan } from '../../src/plan/types.js';
import { ROOT } from '../support/cli.js';

// Issue 19, point 6: which network a build gets, and when each RUN says its own.

const base = (await planRecipe(path.join(ROOT, 'recipes/examples/echo-python/recipe.yaml'))).plan;
const step = (name: string, network: boolean): Plan['steps'][number] => ({ name, run: 'true', stage: 'runtime', network, secrets: [], caches: [] });
const offline: Plan = { ...base, steps: [step('offline', false)] };
const online: Plan = { ...base, steps: [step('online', true)] };
const mixed: Plan = { ...base, steps: [step('online', true), step('offline', false)] };
const apt: Plan = { ...base, systemPackages: ['curl'], steps: [step('offline', false)] };

const modern: BuilderCapability = { builder: 'buildkit', runNetwork: true, engine: '26.1.5' };
const old: BuilderCapability = { builder: 'buildkit', runNetwork: false, engine: '20.10.24' };
const classic: BuilderCapability = { builder: 'classic', runNetwork: true, engine: '26.1.5' };

describe('chooseNetwork', () => {
  it.each([
    // plan, --network, builder, build network, per-step flags
    ['nothing downloads', offline, undefined, modern, 'none', false],
    ['nothing downloads, old BuildKit', offline, undefined, old, 'none', false],
    ['nothing downloads, classic', offline, undefined, classic, 'none', false],
    ['--network none is never widened', mixed, 'none', old, 'none', false],
    ['a step asks for it', online, undefined, modern, 'default', true],
    ['a step asks for it, classic: nothing else to keep offline', online, undefined, classic, 'default', false],
    ['mixed on modern BuildKit', mixed, undefined, modern, 'default', true],
    ['mixed with --network host on modern BuildKit', mixed, 'host', modern, 'host', true],
    ['apt and an offline step, modern BuildKit', apt, undefined, modern, 'default', true],
  ] as const)('%s', (_name, plan, requested, cap, network, stepNetwork) => {
    expect(chooseNetwork(plan, requested, cap)).toEqual({ network, stepNetwork });
  });

  it.each([
    [
      'mixed, old BuildKit',
      mixed,
      undefined,
      old,
      /step "offline" asked for no network, but step "online" needs the network, and BuildKit in this engine \(Docker 20\.10\.24/,
    ],
    ['mixed, classic', mixed, undefined, classic, /and the classic builder gives one network to every step: it would run on the default network/],
    ['apt and an offline step, classic', apt, undefined, classic, /but the apt install needs the network/],
    ['--network host and an offline step, old BuildKit', offline, 'host', old, /but --network host, .*host network/],
  ] as const)('refuses: %s', (_name, plan, requested, cap, message) => {
    let err: unknown;
    try {
      chooseNetwork(plan, requested, cap);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DynamoImageError);
    expect((err as DynamoImageError).code).toBe('build.step-network');
    expect((err as DynamoImageError).exitCode).toBe(2);
    expect((err as DynamoImageError).message).toMatch(message);
  });
});

describe('RUN --network in the Dockerfile', () => {
  const runs = (plan: Plan, stepNetwork: boolean) =>
    renderDockerfile(dockerfileFromPlan(plan, 'runtime', { buildkit: true, stepNetwork }))
      .replace(/ \\\n/g, ' ')
      .split('\n')
      .filter((l) => l.startsWith('RUN '));

  it('per step: what downloads or asked gets the build network, every other RUN none', () => {
    const lines = runs({ ...apt, steps: [step('online', true), step('offline', false)] }, true);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const l of lines) expect(l).toMatch(/^RUN --network=(none|default) /);
    expect(lines.filter((l) => l.includes('apt-get update'))).toEqual([expect.stringMatching(/^RUN --network=default /)]);
    const stepLines = lines.filter((l) => l.includes('"/bin/sh","-ec"'));
    expect(stepLines.map((l) => l.split(' ')[1])).toEqual(['--network=default', '--network=none']);
    // The offline wheel install reads the wheelhouse only.
    expect(lines.filter((l) => l.includes('pip') && l.includes('--no-index'))).toEqual([expect.stringMatching(/^RUN --network=none /)]);
  });

  it('without per-step networks (and for the classic builder) no RUN carries the flag', () => {
    for (const l of runs(mixed, false)) expect(l).not.toContain('--network');
    const classic = renderDockerfile(dockerfileFromPlan(mixed, 'runtime', { buildkit: false, stepNetwork: true }));
    expect(classic).not.toContain('--network');
  });
});

describe('an engine whose frontend does not know RUN --network', () => {
  it('is named as the environment (exit 3), with what to use instead', async () => {
    const { translateBuildFailure } = await import('../../src/engine/translate.js');
    const { OperationError } = await import('../../src/errors.js');
    const e = translateBuildFailure(
      new OperationError('build.failed', 'failed to create LLB definition: dockerfile parse error line 2: Unknown flag: network'),
      [],
    );
    expect(e.code).toBe('engine.no-run-network');
    expect(e.exitCode).toBe(3);
    expect(e.hint).toContain('Docker 23.0 or later');
  });
});
