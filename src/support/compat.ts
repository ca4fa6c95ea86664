import { comparePep440, parsePep440 } from '../versions/pep440.js';
import type { MatrixRow } from './schema.js';

// Driver preflight (issue 24, point 5): does an image's CUDA run on a host's NVIDIA driver, and if
// not, which image line of the support data does. Pure.

function driverParts(v: string): number[] {
  return v.split('.').map((x) => Number(x) || 0);
}

/** a >= b, driver versions (580.65.06 >= 580). */
export function driverAtLeast(a: string, b: string): boolean {
  const x = driverParts(a);
  const y = driverParts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/**
 * The newest support-matrix row this driver runs (its CUDA's minimum driver at most `driver`),
 * of the framework when given: newest Dynamo release first, then the newest CUDA, then engine.
 */
export function newestRunnable(rows: MatrixRow[], driver: string, framework?: string): MatrixRow | null {
  const fits = rows.filter((r) => (!framework || r.framework === framework) && /^\d/.test(r.minDriver) && driverAtLeast(driver, r.minDriver));
  const pv = (v: string) => parsePep440(v);
  fits.sort((a, b) => {
    const d = comparePep440(pv(b.dynamo)!, pv(a.dynamo)!);
    if (d) return d;
    const c = Number(b.cuda.replace('.', '')) - Number(a.cuda.replace('.', ''));
    if (c) return c;
    return comparePep440(pv(b.engine)!, pv(a.engine)!);
  });
  return fits[0] ?? null;
}
