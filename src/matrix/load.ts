import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse } from 'yaml';
import { BaseImageFile, flattenMatrix, SupportMatrixFile, type SupportData } from './schema.js';

/** The folder that ships base-images/ and recipes/ (the package root). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const loaded = new Map<string, SupportData>();

/** Reads and checks the data files once per process (validate and matrix plan many recipes). */
export function loadSupportData(dir = path.join(PACKAGE_ROOT, 'base-images')): SupportData {
  const hit = loaded.get(dir);
  if (hit) return hit;
  const data = readSupportData(dir);
  loaded.set(dir, data);
  return data;
}

function readSupportData(dir: string): SupportData {
  const matrix = SupportMatrixFile.parse(parse(readFileSync(path.join(dir, 'support-matrix.yaml'), 'utf8')));
  const baseImages = BaseImageFile.parse(parse(readFileSync(path.join(dir, 'base-images.yaml'), 'utf8')));
  return { matrix, baseImages, rows: flattenMatrix(matrix) };
}
