import { IMAGE_REF_RE } from './image-ref.js';
import { isLoopbackHost } from '../loopback.js';

// Image references as the docker CLI reads them (distribution/reference's normalisation).

export interface ImageRef {
  /** Registry host[:port] as written, or `docker.io`. */
  domain: string;
  /** Repository path inside the registry (`library/ubuntu` for Docker Hub official images). */
  path: string;
  tag: string | null;
  digest: string | null;
}

const PATH_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** distribution/reference's limits: the repository name with its registry, and a tag. */
export const NAME_MAX = 255;
export const TAG_MAX = 128;

export function isValidReference(ref: string): boolean {
  return referenceProblem(ref) === null;
}

/** Why a registry would refuse this reference, or null. */
export function referenceProblem(ref: string): string | null {
  const r = parseReference(ref);
  if (!r) return `"${ref}" is not a valid image reference (e.g. registry.example.com/team/image:1.0.0)`;
  const name = ref.split('@')[0]!.replace(/:[\w][\w.-]*$/, '');
  if (name.length > NAME_MAX) return `"${ref.slice(0, 40)}...": the repository name is ${name.length} characters; registries allow at most ${NAME_MAX}`;
  if (r.tag && r.tag.length > TAG_MAX) return `"${ref.slice(0, 40)}...": the tag is ${r.tag.length} characters; registries allow at most ${TAG_MAX}`;
  return null;
}

export function parseReference(ref: string): ImageRef | null {
  if (!IMAGE_REF_RE.test(ref)) return null;
  let rest = ref;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | null = null;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  // The first part is a registry when it has a dot or a port, or is localhost.
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
  const domain = hasDomain ? first : 'docker.io';
  let path = hasDomain ? rest.slice(slash + 1) : rest;
  // Without a registry, the first part belongs to the path, and paths are lowercase.
  if (!PATH_RE.test(path)) return null;
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return { domain, path, tag, digest };
}

/** The host to talk to for a domain (Docker Hub's API lives elsewhere). */
export function apiHost(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' ? 'registry-1.docker.io' : domain;
}

/** Registries on the loopback range are spoken to over plain HTTP, as the engine allows. */
export function isLoopback(domain: string): boolean {
  return isLoopbackHost(domain.replace(/:\d+$/, ''));
}

export function formatReference(r: { domain: string; path: string; tag?: string | null; digest?: string | null }): string {
  return `${r.domain}/${r.path}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}
