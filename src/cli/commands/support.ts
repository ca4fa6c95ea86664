import { ExitCode, UsageError } from '../../errors.js';
import { loadSupportData } from '../../support/load.js';
import type { MatrixRow } from '../../support/schema.js';
import { byVersionDesc } from '../../versions/pep440.js';
import type { Output } from '../output.js';

// `dynamo-image support list|show`: the support data, asked (`support find` is support-find.ts,
// `support import`, which keeps it current, support-import.ts).

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
  for (const r of rows)
    o.out(
      `  ${r.framework.padEnd(7)} ${r.engine.padEnd(14)} CUDA ${r.cuda} (driver >= ${r.minDriver}) ${r.status}  NIXL ${r.nixl}  ${r.architectures.join('/')}  [${r.source}]`,
    );
  for (const v of rel.variants)
    o.out(`  variant ${v.name}: ${v.framework} CUDA ${v.cuda} ${v.architectures.join('/')} ${v.status}${v.tag ? ` (tag ${rel.dynamo}${v.tag})` : ''}`);
  for (const n of rel.notes) o.out(`  note: ${n}`);
  const oses = Object.entries(data.matrix.os);
  if (oses.length)
    o.out(
      `  images on ${
        oses
          .filter(([, v]) => v.images)
          .map(([k]) => k)
          .join(', ') || 'none'
      }; wheels only on ${
        oses
          .filter(([, v]) => v.wheels && !v.images)
          .map(([k]) => k)
          .join(', ') || 'none'
      }`,
    );
  return ExitCode.ok;
}
