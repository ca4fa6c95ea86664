// Platforms and architectures, spelled once. Imports nothing.

export const PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const ARCHITECTURES = ['amd64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** `linux/arm64` -> `arm64` (a string without an OS part is returned as it is). */
export function archOf(platform: string): string {
  return platform.split('/')[1] ?? platform;
}

/** The platform of this machine, as the engine names it (Node's x64 is amd64). */
export function nativePlatform(arch: string = process.arch): string {
  return `linux/${arch === 'x64' ? 'amd64' : arch}`;
}

/** The local tag of one platform's image: `NAME:VERSION-ARCH`. */
export function platformTag(image: { name: string; version: string }, platform: string): string {
  return `${image.name}:${image.version}-${archOf(platform)}`;
}
