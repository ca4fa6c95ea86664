import type { IssueCode } from '../errors.js';
import { type FileIssueCode } from '../recipe/read.js';

// Whether an input can run where the recipe builds: an executable's ELF machine, a wheel's platform
// tag, against the recipe's platforms.

/** The file-level code of a read failure, as an input's code (`file.unreadable` -> `input.unreadable`). */
export function inputCode(c: FileIssueCode): IssueCode {
  return c === 'file.missing' ? 'input.missing' : (`input.${c.slice('file.'.length)}` as IssueCode);
}

/** ELF e_machine -> the platform it runs on (the ones a recipe can name). */
const ELF_MACHINES: Record<number, string> = { 0x3e: 'linux/amd64', 0xb7: 'linux/arm64' };

/** Why an executable cannot run on the recipe's platforms (from its ELF header), or null. */
export async function elfMismatch(file: string, platforms: readonly string[]): Promise<string | null> {
  const { open } = await import('node:fs/promises');
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(20);
    const { bytesRead } = await fh.read(head, 0, 20, 0);
    // Not ELF (a script, for example): nothing to say about the architecture.
    if (bytesRead < 20 || head.readUInt32BE(0) !== 0x7f454c46) return null;
    const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
    const runsOn = ELF_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`;
    const wrong = platforms.filter((p) => p !== runsOn);
    return wrong.length ? `is an ELF executable for ${runsOn}, not ${wrong.join(', ')}` : null;
  } finally {
    await fh.close();
  }
}

/** Why a wheel cannot install on the recipe's platforms (from its platform tag), or null. */
export function wheelMismatch(source: string, platforms: readonly string[]): string | null {
  const tag = /-([^-]+)\.whl$/.exec(source)?.[1];
  if (!tag || tag === 'any') return null;
  const arches: (string | null)[] = tag.split('.').map((t) => (/x86_64|amd64/.test(t) ? 'linux/amd64' : /aarch64|arm64/.test(t) ? 'linux/arm64' : null));
  if (arches.some((a) => a === null)) return null;
  const wrong = platforms.filter((p) => !arches.includes(p));
  return wrong.length ? `is a wheel for ${[...new Set(arches)].join(', ')} (platform tag ${tag}), not ${wrong.join(', ')}` : null;
}
