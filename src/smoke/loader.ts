// Every native library loads (issue 24, point 2): what the image's own dynamic loader says about a
// shared object (LD_TRACE_LOADED_OBJECTS=1, the way ldd asks it) and about a library loaded by bare
// name (--preload, the search dlopen does). Pure: parses the loader's words.

/** The driver's libraries: absent on a host (or a build) without a GPU driver, and expected so. */
export const DRIVER_LIBRARIES = [
  /^libcuda\.so(\.1)?$/,
  /^libnvidia-[a-z0-9-]+\.so(\.1)?$/,
  /^libcudadebugger\.so\.1$/,
  /^libnvcuvid\.so(\.1)?$/,
  /^libnvidia-ml\.so(\.1)?$/,
];

export const isDriverLibrary = (name: string) => DRIVER_LIBRARIES.some((r) => r.test(name));

export interface Resolution {
  /** Needed names the loader did not find (driver libraries left out). */
  missing: string[];
  /** Needed driver libraries it did not find: expected without a GPU driver. */
  driverMissing: string[];
  /** Needed names that resolved to a stub (a `stubs/` folder: CUDA's link-time stand-ins). */
  stubs: { name: string; path: string }[];
  /** name -> the path it resolved to. */
  resolved: Record<string, string>;
}

/** Parses the loader's trace (`\tNAME => PATH (0x...)`, `\tNAME => not found`). */
export function parseTrace(out: string): Resolution {
  const r: Resolution = { missing: [], driverMissing: [], stubs: [], resolved: {} };
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+) => (not found|(\S+) \(0x[0-9a-f]+\))\s*$/.exec(line);
    if (!m) continue;
    const name = m[1]!;
    if (m[2] === 'not found') {
      if (isDriverLibrary(name)) r.driverMissing.push(name);
      else r.missing.push(name);
      continue;
    }
    const p = m[3]!;
    r.resolved[name] = p;
    if (/\/stubs\//.test(p)) r.stubs.push({ name, path: p });
  }
  return r;
}

/** Whether `--preload NAME` found the library (the loader says "cannot be preloaded" when not). */
export function preloadFailed(name: string, stderr: string): boolean {
  return stderr.includes(`object '${name}' from --preload cannot be preloaded`);
}
