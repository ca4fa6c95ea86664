import parse from 'semver/functions/parse.js';
import type { Issue } from '../errors.js';

// Tag templates -> tags. Pure. The first tag starts with the image's semver: Dynamo's Kubernetes
// operator reads the runtime version from it.

export const TAG_VARIABLES = [
  'version',
  'version_major',
  'version_minor',
  'cuda',
  'cuda_major',
  'framework',
  'engine_version',
  'dynamo_version',
  'platform',
  'git_sha',
] as const;
export type TagVariable = (typeof TAG_VARIABLES)[number];

const TAG_RE = /^[\w][\w.-]{0,127}$/;

/** What the tag variables are read from: the plan's fields of these names (refs sits below plan/). */
export interface TagSource {
  image: { version: string };
  engine: { framework: string; version: string };
  cuda: { version: string } | null;
  dynamo: { version: string } | null;
  platforms: readonly string[];
}

export function tagVariables(plan: TagSource, extra: { gitSha?: string | null; platform?: string | null }): Partial<Record<TagVariable, string>> {
  const v = parse(plan.image.version)!;
  const vars: Partial<Record<TagVariable, string>> = {
    version: plan.image.version,
    version_major: String(v.major),
    version_minor: `${v.major}.${v.minor}`,
    framework: plan.engine.framework,
    engine_version: plan.engine.version.replace(/\+/g, '_'),
  };
  if (plan.cuda) {
    vars.cuda = plan.cuda.version;
    vars.cuda_major = plan.cuda.version.split('.')[0]!;
  }
  if (plan.dynamo) vars.dynamo_version = plan.dynamo.version;
  const platform = extra.platform ?? plan.platforms[0];
  if (platform) vars.platform = platform.split('/').pop()!;
  if (extra.gitSha) vars.git_sha = extra.gitSha.slice(0, 12);
  return vars;
}

/** Checks the templates without rendering them (at plan time). */
export function checkTagTemplates(templates: string[], file: string, at: (i: number) => { line: number; col: number }, opts: { first: boolean }): Issue[] {
  const issues: Issue[] = [];
  templates.forEach((t, i) => {
    for (const m of t.matchAll(/\{([^}]*)\}/g)) {
      if (!(TAG_VARIABLES as readonly string[]).includes(m[1]!))
        issues.push({
          code: 'publish.tag-variable',
          severity: 'error',
          file,
          ...at(i),
          path: ['publish', 'tags', i],
          message: `unknown variable {${m[1]}} in "${t}"`,
          hint: `known: ${TAG_VARIABLES.map((x) => `{${x}}`).join(', ')}`,
        });
    }
    const sample = t.replace(/\{[^}]*\}/g, 'x');
    if (!TAG_RE.test(sample))
      issues.push({
        code: 'publish.tag-invalid',
        severity: 'error',
        file,
        ...at(i),
        path: ['publish', 'tags', i],
        message: `"${t}" does not render to a valid tag`,
        hint: 'letters, digits, _ . - ; at most 128 characters; not starting with . or -',
      });
  });
  if (opts.first && templates[0] !== undefined && !templates[0].startsWith('{version}'))
    issues.push({
      code: 'publish.first-tag',
      severity: 'error',
      file,
      ...at(0),
      path: ['publish', 'tags', 0],
      message: `the first tag "${templates[0]}" must start with {version}`,
      hint: 'Dynamo\'s Kubernetes operator reads the runtime version from the first tag: e.g. "{version}" or "{version}-cuda{cuda_major}"',
    });
  return issues;
}

export type RenderTagsResult = { ok: true; tags: string[] } | { ok: false; problems: string[] };

export function renderTags(templates: string[], vars: Partial<Record<TagVariable, string>>): RenderTagsResult {
  const problems: string[] = [];
  const tags = templates.map((t) =>
    t.replace(/\{([^}]*)\}/g, (_m, name: string) => {
      const v = vars[name as TagVariable];
      if (v === undefined) {
        problems.push(
          `"${t}" needs {${name}}, which this build has no value for${name === 'git_sha' ? ' (not a git checkout)' : name.startsWith('cuda') ? ' (no base.cuda)' : ''}`,
        );
        return '';
      }
      return v;
    }),
  );
  for (const t of tags)
    if (!problems.length && !TAG_RE.test(t))
      problems.push(t.length > 128 ? `"${t.slice(0, 40)}..." is ${t.length} characters; a tag may have at most 128` : `"${t}" is not a valid tag`);
  return problems.length ? { ok: false, problems } : { ok: true, tags: [...new Set(tags)] };
}
