import type { ImageDetails, ImageSummary } from './port.js';

// The engine's image records (list and inspect answers), as the port's types. Pure; shared by the
// local http path and the dockerode client.

export interface RawImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  Labels?: Record<string, string> | null;
  Size: number;
  Created: number;
  ParentId?: string | null;
}

export interface RawImage {
  Id: string;
  Parent?: string | null;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Size: number;
  Created: string;
  Architecture: string;
  Os: string;
  Config: {
    Labels?: Record<string, string> | null;
    User?: string;
    WorkingDir?: string;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    ExposedPorts?: Record<string, unknown> | null;
  };
}

/**
 * The engine filters on one label; every label is checked here. Podman 4.3 answers a filter of two
 * labels with nothing at all, and what an engine lists is checked, not trusted, anyway.
 */
export function labelFilter(labels: Record<string, string>): string[] {
  return Object.entries(labels)
    .slice(0, 1)
    .map(([k, v]) => `${k}=${v}`);
}

export function withLabels(images: ImageSummary[], labels: Record<string, string>): ImageSummary[] {
  return images.filter((i) => Object.entries(labels).every(([k, v]) => i.labels[k] === v));
}

export function imageSummaryFrom(i: RawImageSummary): ImageSummary {
  return {
    id: i.Id,
    tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    labels: i.Labels ?? {},
    sizeBytes: i.Size,
    created: i.Created,
    parentId: i.ParentId ?? '',
  };
}

export function imageDetailsFrom(i: RawImage): ImageDetails {
  const c = i.Config;
  return {
    id: i.Id,
    tags: i.RepoTags ?? [],
    labels: c.Labels ?? {},
    sizeBytes: i.Size,
    created: Date.parse(i.Created) / 1000,
    parentId: i.Parent ?? '',
    user: c.User ?? '',
    workdir: c.WorkingDir ?? '',
    env: c.Env ?? [],
    entrypoint: c.Entrypoint ?? null,
    cmd: c.Cmd ?? null,
    exposedPorts: Object.keys(c.ExposedPorts ?? {}),
    architecture: i.Architecture,
    os: i.Os,
    repoDigests: i.RepoDigests ?? [],
  };
}
