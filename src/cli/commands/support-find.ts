import { ExitCode, UsageError } from '../../errors.js';
import { loadSupportData } from '../../support/load.js';
import { byVersionDesc, parseSpecifier, satisfies } from '../../versions/pep440.js';
import type { Output } from '../output.js';

// `dynamo-image support find`: which Dynamo releases shipped an engine (and CUDA toolkit).

/** `support find --engine vllm==0.31.0 --cuda 13.0`: the Dynamo releases that fit, newest first. */
export function runSupportFind(opts: { engine?: string; cuda?: string; json?: boolean; data?: string }, o: Output): number {
  if (!opts.engine)
    throw new UsageError('support find needs --engine FRAMEWORK[SPEC]', 'e.g. --engine vllm==0.31.0, --engine "sglang>=0.5.20", --engine trtllm');
  const m = /^(vllm|sglang|trtllm)\s*(.*)$/.exec(opts.engine.trim());
  if (!m) throw new UsageError(`--engine ${opts.engine}: starts with vllm, sglang or trtllm`, 'e.g. --engine vllm==0.31.0');
  const [, fw, specText] = m;
  const parsed = parseSpecifier(specText ? specText : '*');
  if (!parsed.ok) throw new UsageError(`--engine ${opts.engine}: ${parsed.reason}`);
  if (opts.cuda !== undefined && !/^\d+\.\d+$/.test(opts.cuda)) throw new UsageError(`--cuda ${opts.cuda}: a CUDA toolkit is MAJOR.MINOR, e.g. 13.0`);
  const data = loadSupportData(opts.data);
  const fwRows = data.rows.filter((r) => r.framework === fw);
  const hits = fwRows
    .filter((r) => satisfies(r.engine, parsed.spec) && (opts.cuda === undefined || r.cuda === opts.cuda))
    .sort((a, b) => byVersionDesc(a.dynamo, b.dynamo));
  if (opts.json) o.out(JSON.stringify(hits));
  else
    for (const r of hits)
      o.out(`Dynamo ${r.dynamo.padEnd(12)} ${fw} ${r.engine.padEnd(14)} CUDA ${r.cuda} ${r.status}  NIXL ${r.nixl}${r.ucx ? `  UCX ${r.ucx}` : ''}`);
  if (!hits.length) {
    const onCuda = opts.cuda ? fwRows.filter((r) => r.cuda === opts.cuda).sort((a, b) => byVersionDesc(a.dynamo, b.dynamo))[0] : undefined;
    const newest = [...fwRows].sort((a, b) => byVersionDesc(a.dynamo, b.dynamo))[0]!;
    o.err(
      `no Dynamo release shipped ${fw}${specText ? ` ${specText}` : ''}${opts.cuda ? ` on CUDA ${opts.cuda}` : ''}; newest ${fw}${opts.cuda ? ` on CUDA ${opts.cuda}` : ''}: ${onCuda ? `${onCuda.engine} (Dynamo ${onCuda.dynamo})` : opts.cuda ? 'none' : `${newest.engine} (Dynamo ${newest.dynamo}, CUDA ${newest.cuda})`}`,
    );
    return ExitCode.failed;
  }
  return ExitCode.ok;
}
