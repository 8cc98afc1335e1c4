/**
 * The build's second step (after tsc): copies the static asset folders from src/ to dist/,
 * where the compiled service looks for them first. The folders come from the list the
 * service itself resolves at run time, so the build cannot miss one.
 */
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { ASSET_DIRS } from '../src/http/asset-dirs.js';

const root = new URL('../', import.meta.url);
for (const dir of ASSET_DIRS) {
  cpSync(fileURLToPath(new URL(`src/${dir}`, root)), fileURLToPath(new URL(`dist/${dir}`, root)), { recursive: true });
}
