import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import type Router from '@koa/router';

import type { AppState } from './app-state.js';
import type { AppContext } from './validate.js';

export interface StaticAsset {
  /** Resolves the file on first use (so a missing file fails the request, not the start-up). */
  path: () => string;
  type: string;
  cacheControl: string;
}

interface Loaded {
  body: Buffer;
  etag: string;
}

/** The page and its own scripts change with the service: revalidate (ETag) on every load. */
export const REVALIDATE = 'no-cache';
/** Files of pinned npm packages: a day of caching is safe. */
export const VENDOR = 'public, max-age=86400';

/**
 * Serves files from disk (read once, on first request, then from memory) with an ETag,
 * conditional 304s and the given security headers. For pages and the packages they load:
 * nothing comes from a CDN.
 */
export function serveStaticAssets(
  router: Router<AppState, AppContext>,
  assets: Record<string, StaticAsset>,
  headers: Record<string, string>,
): void {
  const cache = new Map<string, Promise<Loaded>>();
  const load = (route: string, asset: StaticAsset): Promise<Loaded> => {
    let loaded = cache.get(route);
    if (!loaded) {
      loaded = readFile(asset.path()).then((body) => ({
        body,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      }));
      // A failed read is not cached: the next request tries again.
      loaded.catch(() => cache.delete(route));
      cache.set(route, loaded);
    }
    return loaded;
  };

  for (const [route, asset] of Object.entries(assets)) {
    router.get(route, async (ctx) => {
      const { body, etag } = await load(route, asset);
      ctx.set('Cache-Control', asset.cacheControl);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set(headers);
      ctx.etag = etag;
      ctx.status = 200;
      if (ctx.fresh) {
        ctx.status = 304;
        return;
      }
      ctx.type = asset.type;
      ctx.body = body;
    });
  }
}
