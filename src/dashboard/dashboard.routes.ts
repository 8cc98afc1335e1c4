import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import type Router from '@koa/router';

import type { AppState } from '../http/app-state.js';
import { assetDir } from '../http/asset-dirs.js';
import { REVALIDATE, serveStaticAssets, VENDOR, type StaticAsset } from '../http/static-assets.js';
import type { AppContext } from '../http/validate.js';

/** A file of the hand-written page (no build step; `npm run build` copies it to dist/). */
const pageFile = (name: string) => join(assetDir('dashboard/public'), name);

/** Chart.js ships its standalone browser build (`window.Chart`) next to its CommonJS entry. */
function chartJsDist(): string {
  return dirname(createRequire(import.meta.url).resolve('chart.js'));
}

/**
 * Everything the page loads comes from this service: no CDN, no inline script or style, no
 * frames. `connect-src 'self'` is all the API calls need.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

// The page and its own files revalidate (ETag) on every load; Chart.js is pinned in package.json.
const ASSETS: Record<string, StaticAsset> = {
  '/dashboard': {
    path: () => pageFile('index.html'),
    type: 'text/html; charset=utf-8',
    cacheControl: REVALIDATE,
  },
  '/dashboard/app.js': {
    path: () => pageFile('app.js'),
    type: 'text/javascript; charset=utf-8',
    cacheControl: REVALIDATE,
  },
  '/dashboard/app.css': {
    path: () => pageFile('app.css'),
    type: 'text/css; charset=utf-8',
    cacheControl: REVALIDATE,
  },
  '/dashboard/favicon.svg': {
    path: () => pageFile('favicon.svg'),
    type: 'image/svg+xml',
    cacheControl: REVALIDATE,
  },
  '/dashboard/vendor/chart.umd.min.js': {
    path: () => join(chartJsDist(), 'chart.umd.min.js'),
    type: 'text/javascript; charset=utf-8',
    cacheControl: VENDOR,
  },
  '/dashboard/vendor/chart.umd.min.js.map': {
    path: () => join(chartJsDist(), 'chart.umd.min.js.map'),
    type: 'application/json; charset=utf-8',
    cacheControl: VENDOR,
  },
};

/**
 * GET / (redirect), GET /dashboard (the page) and its static files. Open like /healthz: the
 * page holds no data; it asks for an API key with the `read` scope and calls the /v1 API
 * with it, so the data stays behind the key.
 */
export function registerDashboardRoutes(router: Router<AppState, AppContext>): void {
  router.get('/', (ctx) => {
    ctx.redirect('/dashboard');
  });
  router.get('/dashboard/', (ctx) => {
    ctx.redirect('/dashboard');
  });
  serveStaticAssets(router, ASSETS, {
    'Content-Security-Policy': DASHBOARD_CSP,
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
}
