import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import type Router from '@koa/router';

import type { AppState } from '../http/app-state.js';
import { assetDir } from '../http/asset-dirs.js';
import { REVALIDATE, serveStaticAssets, VENDOR } from '../http/static-assets.js';
import type { AppContext } from '../http/validate.js';

/** One of the page's own files around Swagger UI (no build step; `npm run build` copies them to dist/). */
const docsFile = (name: string) => join(assetDir('openapi/docs'), name);

/** swagger-ui-dist ships the built UI; served from node_modules, never a CDN. */
const swaggerUiDir = () => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Swagger UI sets style attributes and shows data: images; it needs nothing else from outside. */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** GET /docs: a readable API reference of /v1/openapi.json (Swagger UI from the npm package). */
export function registerDocsRoutes(router: Router<AppState, AppContext>): void {
  router.get('/docs/', (ctx) => ctx.redirect('/docs'));
  serveStaticAssets(
    router,
    {
      '/docs': {
        path: () => docsFile('index.html'),
        type: 'text/html; charset=utf-8',
        cacheControl: REVALIDATE,
      },
      '/docs/docs.js': {
        path: () => docsFile('docs.js'),
        type: 'text/javascript; charset=utf-8',
        cacheControl: REVALIDATE,
      },
      '/docs/docs.css': {
        path: () => docsFile('docs.css'),
        type: 'text/css; charset=utf-8',
        cacheControl: REVALIDATE,
      },
      '/docs/favicon-32x32.png': {
        path: () => join(swaggerUiDir(), 'favicon-32x32.png'),
        type: 'image/png',
        cacheControl: VENDOR,
      },
      '/docs/swagger-ui.css': {
        path: () => join(swaggerUiDir(), 'swagger-ui.css'),
        type: 'text/css; charset=utf-8',
        cacheControl: VENDOR,
      },
      '/docs/swagger-ui-bundle.js': {
        path: () => join(swaggerUiDir(), 'swagger-ui-bundle.js'),
        type: 'text/javascript; charset=utf-8',
        cacheControl: VENDOR,
      },
    },
    { 'Content-Security-Policy': DOCS_CSP },
  );
}
