// CUDA-variant consistency (issue 24, point 1): which CUDA major a Python distribution, a Debian
// package or a shared library was built for, read from its name, version or SONAME. Pure.
//
// What passes every build and every `import` test but runs wrong: a CUDA 13 image with
// `cupy-cuda12x` (CuPy falls back to NumPy), `nvidia-*-cu12` wheels or `libcudart.so.12`.

export type FoundKind = 'python' | 'dpkg' | 'library';

export interface Found {
  kind: FoundKind;
  /** The distribution, the package, or the library (its SONAME when it has one, else its file name). */
  name: string;
  version?: string;
  /** Where in the image. */
  path: string;
}

export interface CudaFinding extends Found {
  cudaMajor: number;
}

/** `cu121` -> 12, `cu118` -> 11, `cu130` -> 13, `cu12` -> 12. */
function cuTag(digits: string): number {
  return Number(digits.length >= 3 ? digits.slice(0, digits.length - 1) : digits);
}

// Libraries whose SONAME major is the CUDA major (cuFFT, cuSPARSE, cuRAND, NPP keep their own).
const VERSIONED_LIBS = /^lib(cudart|cublas|cublasLt|nvrtc|nvJitLink|cupti|nvrtc-builtins)\.so\.(\d+)(\.|$)/;

/** The CUDA major a thing in the image was built for, or null when its name says nothing. */
export function cudaMajorOf(f: Found): number | null {
  if (f.kind === 'python') {
    const n = f.name.toLowerCase().replace(/[_.]+/g, '-');
    let m = /-cuda(\d+)x?$/.exec(n) ?? /-cu(\d+)$/.exec(n) ?? /-cu(\d+)-/.exec(n);
    if (m) return /-cuda/.test(m[0]) ? Number(m[1]) : cuTag(m[1]!);
    // A local version tag: torch 2.5.1+cu121.
    m = /\+cu(\d{2,3})$/.exec(f.version ?? '');
    return m ? cuTag(m[1]!) : null;
  }
  if (f.kind === 'dpkg') {
    const m =
      /^cuda-[a-z0-9-]+?-(\d+)-\d+$/.exec(f.name) ??
      /^lib(?:cudart|cublas|cublaslt|nvrtc|nvjitlink|cupti)(\d+)$/.exec(f.name) ??
      /-cuda-(\d+)$/.exec(f.name) ??
      /\+cuda(\d+)\./.exec(f.version ?? '');
    return m ? Number(m[1]) : null;
  }
  const m = VERSIONED_LIBS.exec(f.name);
  return m ? Number(m[2]) : null;
}

export interface AllowEntry {
  /** A name, or a pattern with `*` (e.g. `nvidia-*-cu12`). */
  name: string;
  reason: string;
}

/** `*` matches any run of characters; the rest is literal; case-insensitive. */
export function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(name);
}

/** Everything of another CUDA major than the image's, minus what the recipe allows (with its reason). */
export function cudaMismatches(
  found: Found[],
  imageMajor: number,
  allow: AllowEntry[],
): { wrong: CudaFinding[]; allowed: (CudaFinding & { reason: string })[] } {
  const wrong: CudaFinding[] = [];
  const allowed: (CudaFinding & { reason: string })[] = [];
  const seen = new Set<string>();
  for (const f of found) {
    const major = cudaMajorOf(f);
    if (major === null || major === imageMajor) continue;
    const key = `${f.kind}:${f.name}:${f.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const a = allow.find((x) => globMatch(f.kind === 'python' ? x.name.toLowerCase().replace(/[-_.]+/g, '-') : x.name, f.name));
    if (a) allowed.push({ ...f, cudaMajor: major, reason: a.reason });
    else wrong.push({ ...f, cudaMajor: major });
  }
  return { wrong, allowed };
}

/** Python distributions from a `NAME-VERSION.dist-info` folder name. */
export function distInfoOf(dir: string): { name: string; version: string } | null {
  const m = /^([A-Za-z0-9][A-Za-z0-9._]*?)-([^-/]+)\.dist-info$/.exec(dir);
  // The name as PyPI and pip write it (PEP 503): cupy_cuda12x -> cupy-cuda12x.
  return m ? { name: m[1]!.toLowerCase().replace(/[-_.]+/g, '-'), version: m[2]! } : null;
}

/** Installed packages from dpkg's status file (name, version; only those installed). */
export function dpkgPackages(status: string): { name: string; version: string }[] {
  const out: { name: string; version: string }[] = [];
  for (const para of status.split(/\n\s*\n/)) {
    const name = /^Package: (.+)$/m.exec(para)?.[1]?.trim();
    const version = /^Version: (.+)$/m.exec(para)?.[1]?.trim();
    const st = /^Status: (.+)$/m.exec(para)?.[1] ?? '';
    if (name && version && /\binstalled$/.test(st.trim())) out.push({ name, version });
  }
  return out;
}
