// Image references as the Docker CLI reads them. Pure, and free of dependencies: the CLI checks
// flags with it before loading anything else.

// The Docker reference grammar (distribution/reference), tag and digest both optional.
export const IMAGE_REF_RE =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
/** Without a registry part (a dot, a port, localhost), the first component is a lowercase path. */
export function referencePathIsLowercase(ref: string): boolean {
  const name = ref.split('@')[0]!.replace(/:[\w][\w.-]*$/, '');
  const first = name.split('/')[0]!;
  const hasDomain = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
  const rest = hasDomain ? name.slice(first.length + 1) : name;
  return rest === rest.toLowerCase();
}
