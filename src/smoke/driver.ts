// The host's NVIDIA driver against the minimum the image's CUDA toolkit needs. Pure.
// Minimums (CUDA minor version compatibility aside): the support matrix's `cuda.*.minDriver`,
// written into every image as the label dev.dynamo-image.min-driver.

export type DriverVerdict = { ok: true; detail: string } | { ok: false; detail: string };

/** `580.159.04` -> [580, 159, 4]; null when it is not a driver version. */
export function parseDriverVersion(text: string): number[] | null {
  const m = /^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(text);
  if (!m) return null;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * One line that names both versions and what to do. `driver` is what nvidia-smi printed inside a
 * GPU container (the first GPU's line); `minDriver` and `cuda` come from the image's labels.
 */
export function checkDriver(driver: string, minDriver: string, cuda: string): DriverVerdict {
  const have = parseDriverVersion(driver.split('\n')[0] ?? '');
  const need = parseDriverVersion(minDriver);
  if (!have) return { ok: true, detail: `driver version not read ("${driver.trim().slice(0, 40)}"); not checked` };
  if (!need) return { ok: true, detail: `driver ${have.join('.')}; the image names no minimum driver` };
  const shown = driver.split('\n')[0]!.trim();
  if (compare(have, need) >= 0) return { ok: true, detail: `driver ${shown} >= ${minDriver}, the minimum for CUDA ${cuda}` };
  return {
    ok: false,
    detail: `the host's NVIDIA driver ${shown} is older than ${minDriver}, the minimum for CUDA ${cuda} (this image): update the driver to ${minDriver} or newer, or use a variant built for an older CUDA`,
  };
}
