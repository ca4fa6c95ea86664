import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPILED_SUPPORT_DATA, compileSupportData, parseSupportData } from '../../src/support/load.js';
import { ROOT } from '../support/cli.js';

// `npm run build` writes dist/support-data.json: the shipped support data, parsed and checked once.
// It must be exactly what parsing the YAML gives, and it is used only while the YAML still hashes
// to what it was compiled from.

describe('the compiled support data', () => {
  it('is what parsing and checking the YAML gives', () => {
    const yaml = parseSupportData(
      readFileSync(path.join(ROOT, 'base-images/support-matrix.yaml'), 'utf8'),
      readFileSync(path.join(ROOT, 'base-images/base-images.yaml'), 'utf8'),
    );
    expect(JSON.parse(JSON.stringify(compileSupportData().data))).toEqual(JSON.parse(JSON.stringify(yaml)));
  });

  it('the built file, where there is one, is current with the YAML (npm run build wrote it)', () => {
    // The test command builds first (npm test), so in CI this always runs.
    if (!existsSync(COMPILED_SUPPORT_DATA)) return;
    const built = JSON.parse(readFileSync(COMPILED_SUPPORT_DATA, 'utf8'));
    expect(built).toEqual(JSON.parse(JSON.stringify(compileSupportData())));
  });

  it('an edited YAML in the package is read in full: the CLI sees the edit, not the compiled copy', async () => {
    const { mkdtempSync, cpSync, writeFileSync, rmSync, symlinkSync } = await import('node:fs');
    const os = await import('node:os');
    const { execFileSync } = await import('node:child_process');
    if (!existsSync(COMPILED_SUPPORT_DATA)) return;
    // A copy of the installed package (dist with its compiled data, bin, base-images).
    const pkg = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-compiled-'));
    try {
      for (const d of ['dist', 'bin', 'base-images', 'package.json']) cpSync(path.join(ROOT, d), path.join(pkg, d), { recursive: true });
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
      const show = () => execFileSync(process.execPath, [path.join(pkg, 'bin/dynamo-image.js'), 'support', 'show', '1.7.0'], { encoding: 'utf8' });
      expect(show()).toMatch(/vllm\s+0\.33\.0/);
      const f = path.join(pkg, 'base-images/support-matrix.yaml');
      writeFileSync(f, readFileSync(f, 'utf8').replace('vllm: { version: "0.33.0"', 'vllm: { version: "0.33.1"'));
      expect(show()).toMatch(/vllm\s+0\.33\.1/);
    } finally {
      rmSync(pkg, { recursive: true, force: true });
    }
  });
});
