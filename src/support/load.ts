import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse } from 'yaml';
import { BaseImageFile, flattenMatrix, SupportMatrixFile, type SupportData } from './schema.js';

/**
 * The folder that ships base-images/ and recipes/ (the package root): the nearest folder above this
 * module that holds package.json and base-images/. This code runs from src/ (tests), from dist/
 * (the library) and from a chunk of the bundled CLI (dist/bundle/), each at its own depth.
 */
export const PACKAGE_ROOT = packageRoot(path.dirname(fileURLToPath(import.meta.url)));

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'base-images'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package root (package.json and base-images/) above ${from}`);
  }
}

const loaded = new Map<string, SupportData>();

/** Reads and checks the data files once per process (validate and matrix plan many recipes). */
export function loadSupportData(dir = path.join(PACKAGE_ROOT, 'base-images')): SupportData {
  const hit = loaded.get(dir);
  if (hit) return hit;
  const data = readSupportData(dir);
  loaded.set(dir, data);
  return data;
}

/**
 * The shipped data, checked once at build time (`npm run build` writes it): the support matrix and
 * base image table as parsed and validated, with the sha256 of the two YAML files they came from.
 * Used only when both files still hash to those values; any edit (a fork's data, `--data DIR`, a
 * hand edit) is read and checked in full. Parsing and checking the YAML is most of `plan`'s own
 * start-up time; this file is part of the package, trusted as its code is.
 */
export const COMPILED_SUPPORT_DATA = path.join(PACKAGE_ROOT, 'dist', 'support-data.json');

export interface CompiledSupportData {
  sha256: { matrix: string; baseImages: string };
  data: SupportData;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function readSupportData(dir: string): SupportData {
  const matrixBytes = readFileSync(path.join(dir, 'support-matrix.yaml'));
  const baseBytes = readFileSync(path.join(dir, 'base-images.yaml'));
  const want = { matrix: sha256(matrixBytes), baseImages: sha256(baseBytes) };
  if (path.resolve(dir) === path.join(PACKAGE_ROOT, 'base-images')) {
    let compiled: CompiledSupportData | null = null;
    try {
      compiled = JSON.parse(readFileSync(COMPILED_SUPPORT_DATA, 'utf8')) as CompiledSupportData;
    } catch {
      /* not built, or not readable: read the YAML */
    }
    if (compiled?.sha256?.matrix === want.matrix && compiled.sha256.baseImages === want.baseImages) return compiled.data;
  }
  return parseSupportData(matrixBytes.toString('utf8'), baseBytes.toString('utf8'));
}

/** The two YAML files, parsed and checked against their schemas. */
export function parseSupportData(matrixText: string, baseImagesText: string): SupportData {
  const matrix = SupportMatrixFile.parse(parse(matrixText));
  const baseImages = BaseImageFile.parse(parse(baseImagesText));
  return { matrix, baseImages, rows: flattenMatrix(matrix) };
}

/** What `npm run build` writes to COMPILED_SUPPORT_DATA. */
export function compileSupportData(dir = path.join(PACKAGE_ROOT, 'base-images')): CompiledSupportData {
  const matrixBytes = readFileSync(path.join(dir, 'support-matrix.yaml'));
  const baseBytes = readFileSync(path.join(dir, 'base-images.yaml'));
  return {
    sha256: { matrix: sha256(matrixBytes), baseImages: sha256(baseBytes) },
    data: parseSupportData(matrixBytes.toString('utf8'), baseBytes.toString('utf8')),
  };
}
