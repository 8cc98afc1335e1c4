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

/**
 * The page's ES modules: app.js is the entry index.html loads, the others are what it imports.
 * A module missing here is a 404 that stops the page (test/dashboard-modules.test.ts checks the list).
 */
export const DASHBOARD_MODULES = [
  'app.js',
  'api-client.js',
  'api-error.js',
  'api-key-storage.js',
  'charts.js',
  'dom.js',
  'efficiency-status.js',
  'error-messages.js',
  'firing-alerts.js',
  'fleet-row.js',
  'fleet-table.js',
  'format.js',
  'key-prompt.js',
  'register-events.js',
  'state.js',
  'time-ranges.js',
  'vehicle-summary.js',
  'vehicle-view.js',
];

// Module scripts are refused unless served with a JavaScript type (and nosniff is always set).
const JAVASCRIPT = 'text/javascript; charset=utf-8';

/** A file of `public/`; these revalidate (ETag) on every load, as they change with the service. */
const ownFile = (name: string, type: string): StaticAsset => ({
  path: () => pageFile(name),
  type,
  cacheControl: REVALIDATE,
});

const ASSETS: Record<string, StaticAsset> = {
  '/dashboard': ownFile('index.html', 'text/html; charset=utf-8'),
  ...Object.fromEntries(DASHBOARD_MODULES.map((name) => [`/dashboard/${name}`, ownFile(name, JAVASCRIPT)])),
  '/dashboard/app.css': ownFile('app.css', 'text/css; charset=utf-8'),
  '/dashboard/favicon.svg': ownFile('favicon.svg', 'image/svg+xml'),
  // Chart.js is pinned in package.json: a day of caching is safe.
  '/dashboard/vendor/chart.umd.min.js': {
    path: () => join(chartJsDist(), 'chart.umd.min.js'),
    type: JAVASCRIPT,
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
