import { readFileSync } from 'node:fs';

import type { ApiRouter } from '../http/api-router.js';
import { buildOpenApiDocument } from './openapi.document.js';

const packageVersion = (): string => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
};

/**
 * GET /v1/openapi.json: the OpenAPI 3.1 document, generated on first request from the
 * routes registered so far (all of them, once the app is built) and cached. Open: a
 * reference is no secret, and /docs must load it without a key.
 */
export function registerOpenApiRoutes<Scope extends string>(api: ApiRouter<Scope>): void {
  let document: ReturnType<typeof buildOpenApiDocument> | undefined;
  api.add({
    method: 'get',
    path: '/v1/openapi.json',
    operationId: 'getOpenApiDocument',
    tag: 'Operations',
    summary: 'This API reference as an OpenAPI 3.1 document (no key)',
    status: 200,
    response: { description: 'The OpenAPI document', contentType: 'application/json' },
    handler: (_input, ctx) => {
      document ??= buildOpenApiDocument(api.routes, { version: packageVersion() });
      ctx.body = document;
    },
  });
}
