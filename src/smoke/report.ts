import type { SmokeReport, TestResult } from './types.js';

// Reports of a smoke run: for people, as JSON, and as JUnit XML for CI systems.

function secs(ms: number): string {
  return (ms / 1000).toFixed(2);
}

export function formatResultLine(r: TestResult): string {
  const mark = r.status === 'passed' ? 'PASS' : r.status === 'failed' ? 'FAIL' : 'SKIP';
  return `${mark} ${r.name} (${r.kind}${r.gpu ? ', gpu' : ''}, ${secs(r.durationMs)}s)${r.status === 'skipped' ? `: ${r.reason}` : ''}`;
}

/** The report for people. `streamed`: the per-test lines were already printed as tests finished. */
export function formatHuman(rep: SmokeReport, opts: { streamed?: boolean } = {}): string {
  const g = rep.gpu;
  const via = g.request
    ? `, via ${g.request.via === 'cdi' ? `CDI ${g.request.devices.join(',')}` : `--gpus ${g.request.devices === 'all' ? 'all' : g.request.devices.join(',')}`}`
    : '';
  const lines: string[] = [
    `smoke tests of ${rep.image}${rep.image === rep.imageId ? '' : ` (${rep.imageId.slice(0, 19)})`}; GPU requests: ${g.available ? 'accepted' : 'not possible'}${via} (${g.detail}; --gpu ${g.mode})`,
  ];
  if (g.driver) lines.push(`  driver check: ${g.driver.detail}`);
  for (const r of rep.results) {
    if (!opts.streamed || r.status === 'failed') lines.push(`  ${formatResultLine(r)}`);
    if (r.status !== 'failed') continue;
    lines.push(`      ${r.reason}`);
    if (r.expected) lines.push(`      expected: ${r.expected}`);
    if (r.actual) lines.push(`      got:      ${r.actual.split('\n').join('\n                ')}`);
    if (r.exitExplained) lines.push(`      exit:     ${r.exitExplained}`);
    if (r.tail?.length) {
      lines.push('      output (last lines):');
      for (const t of r.tail) lines.push(`        ${t}`);
    }
  }
  lines.push(`${rep.passed} passed, ${rep.failed} failed, ${rep.skipped} skipped in ${secs(rep.durationMs)}s`);
  return lines.join('\n');
}

function xml(s: string): string {
  // Characters XML 1.0 cannot carry at all are dropped; the rest escaped.
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/g, '')
    .replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** One report as a JUnit file. */
export function formatJunit(rep: SmokeReport): string {
  return formatJunitSuites([rep]);
}

/**
 * Several reports (a matrix's variants) as one JUnit file: a testsuite each, named by `names`
 * (variant and platform) where given. A recorded report (an unchanged image whose tests passed
 * before) says so in its name and properties.
 */
export function formatJunitSuites(reps: SmokeReport[], names: string[] = []): string {
  const suite = (rep: SmokeReport, i: number) => {
    const name = `${names[i] ?? rep.image}${rep.recorded ? ` (recorded ${rep.recorded}; not run again)` : ''}`;
    const cases = rep.results.map((r) => {
      const open = `    <testcase name="${xml(r.name)}" classname="dynamo-image.smoke.${r.kind}" time="${secs(r.durationMs)}"`;
      if (r.status === 'passed') return `${open}/>`;
      if (r.status === 'skipped') return `${open}>\n      <skipped message="${xml(r.reason ?? '')}"/>\n    </testcase>`;
      const body = [
        r.reason,
        r.expected && `expected: ${r.expected}`,
        r.actual && `got: ${r.actual}`,
        r.exitExplained && `exit: ${r.exitExplained}`,
        r.tail?.length && `output:\n${r.tail.join('\n')}`,
      ]
        .filter(Boolean)
        .join('\n');
      return `${open}>\n      <failure message="${xml(r.reason ?? 'failed')}">${xml(body)}</failure>\n    </testcase>`;
    });
    return [
      `  <testsuite name="${xml(name)}" tests="${rep.results.length}" failures="${rep.failed}" errors="0" skipped="${rep.skipped}" time="${secs(rep.durationMs)}" timestamp="${rep.startedAt}">`,
      `    <properties><property name="image.id" value="${xml(rep.imageId)}"/><property name="gpu-requests" value="${xml(`${rep.gpu.available ? 'accepted' : 'not possible'}: ${rep.gpu.detail}`)}"/><property name="gpu-request-via" value="${rep.gpu.request?.via ?? 'none'}"/>${rep.recorded ? `<property name="outcome" value="recorded ${xml(rep.recorded)}: the image is unchanged and its tests were not run again"/>` : ''}${rep.gpu.driver ? `<property name="gpu-driver" value="${xml(rep.gpu.driver.detail)}"/>` : ''}</properties>`,
      ...cases,
      '  </testsuite>',
    ];
  };
  const sum = (f: (r: SmokeReport) => number) => reps.reduce((n, r) => n + f(r), 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="dynamo-image smoke" tests="${sum((r) => r.results.length)}" failures="${sum((r) => r.failed)}" skipped="${sum((r) => r.skipped)}" time="${secs(sum((r) => r.durationMs))}">`,
    ...reps.flatMap(suite),
    '</testsuites>',
    '',
  ].join('\n');
}
