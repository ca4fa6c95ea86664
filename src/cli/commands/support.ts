import { ExitCode, UsageError } from '../../errors.js';
import { loadSupportData } from '../../support/load.js';
import type { MatrixRow } from '../../support/schema.js';
import { comparePep440, parsePep440, parseSpecifier, satisfies } from '../../versions/pep440.js';
import type { Output } from '../output.js';

// `dynamo-image support list|show|find`: the support data, asked (`support import`, which keeps it
// current, is support-import.ts).

function byVersionDesc(a: string, b: string): number {
  return comparePep440(parsePep440(b)!, parsePep440(a)!);
}

export function runSupportList(opts: { framework?: string; json?: boolean; data?: string }, o: Output): number {
  const data = loadSupportData(opts.data);
  const rows = data.rows.filter((r) => !opts.framework || r.framework === opts.framework);
  if (opts.framework && !rows.length) throw new UsageError(`--framework ${opts.framework}: not one of vllm, sglang, trtllm`);
  const releases = [...new Set(rows.map((r) => r.dynamo))].sort(byVersionDesc);
  if (opts.json) {
    o.out(JSON.stringify(releases.map((d) => ({ dynamo: d, rows: rows.filter((r) => r.dynamo === d) }))));
    return ExitCode.ok;
  }
  for (const d of releases) {
    const mine = rows.filter((r) => r.dynamo === d);
    const fws = [...new Set(mine.map((r) => r.framework))].map((fw) => {
      const f = mine.filter((r) => r.framework === fw);
      return `${fw} ${f[0]!.engine} (CUDA ${f.map((r) => `${r.cuda}${r.status === 'experimental' ? '*' : ''}`).join(', ')})`;
    });
    o.out(`${d.padEnd(12)} ${fws.join('  ')}`);
  }
  o.err('* experimental');
  return ExitCode.ok;
}

export function runSupportShow(version: string, opts: { json?: boolean; data?: string }, o: Output): number {
  const data = loadSupportData(opts.data);
  const rows: MatrixRow[] = data.rows.filter((r) => r.dynamo === version);
  if (!rows.length) {
    const newest = [...new Set(data.rows.map((r) => r.dynamo))].sort(byVersionDesc)[0];
    throw new UsageError(`Dynamo ${version} is not in the support data`, `newest: ${newest}; dynamo-image support list shows every release`);
  }
  const rel = data.matrix.releases.find((r) => r.dynamo === version)!;
  if (opts.json) {
    o.out(JSON.stringify({ dynamo: version, ucx: rel.ucx ?? null, notes: rel.notes, variants: rel.variants, os: data.matrix.os, rows }));
    return ExitCode.ok;
  }
  o.out(`Dynamo ${version}${rel.ucx ? `, UCX ${rel.ucx}` : ''}`);
  for (const r of rows) o.out(`  ${r.framework.padEnd(7)} ${r.engine.padEnd(14)} CUDA ${r.cuda} (driver >= ${r.minDriver}) ${r.status}  NIXL ${r.nixl}  ${r.architectures.join('/')}  [${r.source}]`);
  for (const v of rel.variants) o.out(`  variant ${v.name}: ${v.framework} CUDA ${v.cuda} ${v.architectures.join('/')} ${v.status}${v.tag ? ` (tag ${rel.dynamo}${v.tag})` : ''}`);
  for (const n of rel.notes) o.out(`  note: ${n}`);
  const oses = Object.entries(data.matrix.os);
  if (oses.length) o.out(`  images on ${oses.filter(([, v]) => v.images).map(([k]) => k).join(', ') || 'none'}; wheels only on ${oses.filter(([, v]) => v.wheels && !v.images).map(([k]) => k).join(', ') || 'none'}`);
  return ExitCode.ok;
}

/** `support find --engine vllm==0.31.0 --cuda 13.0`: the Dynamo releases that fit, newest first. */
export function runSupportFind(opts: { engine?: string; cuda?: string; json?: boolean; data?: string }, o: Output): number {
  if (!opts.engine) throw new UsageError('support find needs --engine FRAMEWORK[SPEC]', 'e.g. --engine vllm==0.31.0, --engine "sglang>=0.5.20", --engine trtllm');
  const m = /^(vllm|sglang|trtllm)\s*(.*)$/.exec(opts.engine.trim());
  if (!m) throw new UsageError(`--engine ${opts.engine}: starts with vllm, sglang or trtllm`, 'e.g. --engine vllm==0.31.0');
  const [, fw, specText] = m;
  const parsed = parseSpecifier(specText ? specText : '*');
  if (!parsed.ok) throw new UsageError(`--engine ${opts.engine}: ${parsed.reason}`);
  if (opts.cuda !== undefined && !/^\d+\.\d+$/.test(opts.cuda)) throw new UsageError(`--cuda ${opts.cuda}: a CUDA toolkit is MAJOR.MINOR, e.g. 13.0`);
  const data = loadSupportData(opts.data);
  const fwRows = data.rows.filter((r) => r.framework === fw);
  const hits = fwRows.filter((r) => satisfies(r.engine, parsed.spec) && (opts.cuda === undefined || r.cuda === opts.cuda)).sort((a, b) => byVersionDesc(a.dynamo, b.dynamo));
  if (opts.json) o.out(JSON.stringify(hits));
  else for (const r of hits) o.out(`Dynamo ${r.dynamo.padEnd(12)} ${fw} ${r.engine.padEnd(14)} CUDA ${r.cuda} ${r.status}  NIXL ${r.nixl}${r.ucx ? `  UCX ${r.ucx}` : ''}`);
  if (!hits.length) {
    const onCuda = opts.cuda ? fwRows.filter((r) => r.cuda === opts.cuda).sort((a, b) => byVersionDesc(a.dynamo, b.dynamo))[0] : undefined;
    const newest = [...fwRows].sort((a, b) => byVersionDesc(a.dynamo, b.dynamo))[0]!;
    o.err(`no Dynamo release shipped ${fw}${specText ? ` ${specText}` : ''}${opts.cuda ? ` on CUDA ${opts.cuda}` : ''}; newest ${fw}${opts.cuda ? ` on CUDA ${opts.cuda}` : ''}: ${onCuda ? `${onCuda.engine} (Dynamo ${onCuda.dynamo})` : opts.cuda ? 'none' : `${newest.engine} (Dynamo ${newest.dynamo}, CUDA ${newest.cuda})`}`);
    return ExitCode.failed;
  }
  return ExitCode.ok;
}
