import type Router from '@koa/router';
import type { AppState } from '../http/app-state.js';
import { AppError } from '../http/app-error.js';
import { validated, type AppContext } from '../http/validate.js';
import type { StoredKey } from './api-key.repository.js';
import type { ApiKeyService } from './api-key.service.js';
import { requireScope } from './auth.middleware.js';
import { createKeyBody, keyParams } from './keys.schema.js';

const present = (key: StoredKey) => ({
  id: key.id,
  name: key.name,
  scopes: key.scopes,
  deviceId: key.deviceId,
  createdAt: key.createdAt.toISOString(),
});

/** Key management (admin scope). The plaintext key is shown once, at creation. */
export function registerKeyRoutes(router: Router<AppState, AppContext>, keys: ApiKeyService): void {
  router.post(
    '/v1/keys',
    requireScope('admin'),
    validated({ body: createKeyBody }, async ({ body }, ctx) => {
      const created = await keys.create({ name: body.name, scopes: body.scopes, deviceId: body.deviceId ?? null });
      ctx.status = 201;
      ctx.body = { ...present(created), key: created.key };
    }),
  );

  router.get('/v1/keys', requireScope('admin'), async (ctx) => {
    ctx.body = { keys: (await keys.list()).map(present) };
  });

  router.delete(
    '/v1/keys/:id',
    requireScope('admin'),
    validated({ params: keyParams }, async ({ params }, ctx) => {
      if (!(await keys.revoke(params.id))) throw AppError.notFound('key_not_found', `No active key ${params.id}.`);
      ctx.status = 204;
    }),
  );
}
