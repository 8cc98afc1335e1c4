import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Folders of hand-written static files, relative to src/, each with an index.html. tsc does
 * not copy them, so `npm run build` (scripts/copy-assets.ts) copies every folder listed here
 * to the same place under dist/: this list is the one place both sides read.
 */
export const ASSET_DIRS = ['dashboard/public', 'openapi/docs'] as const;

export type AssetDir = (typeof ASSET_DIRS)[number];

/**
 * An asset folder at run time: the copy next to the compiled modules (or the sources, when
 * run from src/); when that copy is missing (a dist/ built by plain tsc) the sources are used.
 */
export function assetDir(dir: AssetDir): string {
  // This module sits one level below src/ (and dist/): `../` is the folder the assets are in.
  const candidates = [
    fileURLToPath(new URL(`../${dir}/`, import.meta.url)),
    fileURLToPath(new URL(`../../src/${dir}/`, import.meta.url)),
  ];
  return candidates.find((candidate) => existsSync(join(candidate, 'index.html'))) ?? candidates[0]!;
}
