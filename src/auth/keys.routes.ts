import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../http/app-error.js';
import type { StoredKey } from './api-key.repository.js';
import type { ApiKeyService } from './api-key.service.js';
import type { Scope } from './api-key.table.js';
import { apiKeyList, createdApiKey, createKeyBody, keyParams } from './keys.schema.js';

const present = (key: StoredKey) => ({
  id: key.id,
  name: key.name,
  scopes: key.scopes,
  deviceId: key.deviceId,
  deviceKind: key.deviceKind,
  createdAt: key.createdAt.toISOString(),
});

/** Key management (admin scope). The plaintext key is shown once, at creation. */
export function registerKeyRoutes(api: ApiRouter<Scope>, keys: ApiKeyService): void {
  api.add({
    method: 'post',
    path: '/v1/keys',
    operationId: 'createApiKey',
    tag: 'API keys',
    summary: 'Create an API key',
    description: 'The plaintext key is in this response only; the service keeps its SHA-256 hash.',
    scope: 'admin',
    request: { body: createKeyBody },
    status: 201,
    response: { description: 'The new key, with its plaintext', schema: createdApiKey },
    handler: async ({ body }) => {
      const created = await keys.create({
        name: body.name,
        scopes: body.scopes,
        deviceId: body.deviceId ?? null,
        deviceKind: body.deviceKind ?? null,
      });
      return { ...present(created), key: created.key };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/keys',
    operationId: 'listApiKeys',
    tag: 'API keys',
    summary: 'List the active API keys (never their plaintext)',
    scope: 'admin',
    status: 200,
    response: { description: 'Active keys', schema: apiKeyList },
    handler: async () => ({ keys: (await keys.list()).map(present) }),
  });

  api.add({
    method: 'delete',
    path: '/v1/keys/:id',
    operationId: 'revokeApiKey',
    tag: 'API keys',
    summary: 'Revoke an API key',
    description: 'Effective on every instance within the authentication cache time (2 s).',
    scope: 'admin',
    request: { params: keyParams },
    status: 204,
    response: { description: 'Revoked' },
    errors: ['key_not_found'],
    handler: async ({ params }) => {
      if (!(await keys.revoke(params.id))) throw new AppError('key_not_found', `No active key ${params.id}.`);
    },
  });
}
