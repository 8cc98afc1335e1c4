import { z } from 'zod';

import { instantJson } from '../http/common.schema.js';
import { deviceIdSchema } from '../http/device-id.schema.js';
import { SCOPES } from './api-key.table.js';

export const createKeyBody = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  scopes: z
    .array(z.enum(SCOPES as ['ingest', 'read', 'admin'], { message: 'must be one of ingest, read, admin' }))
    .min(1, 'must hold at least one scope')
    .transform((scopes) => [...new Set(scopes)]),
  deviceId: deviceIdSchema.optional(),
});

export const keyParams = z.object({ id: z.uuid('must be a key id (UUID)') });

export const apiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES as ['ingest', 'read', 'admin'])),
    deviceId: z.string().nullable().meta({ description: 'The only device this key may send readings for; null: any' }),
    createdAt: instantJson,
  })
  .meta({ id: 'ApiKey' });

export const createdApiKey = apiKey
  .extend({ key: z.string().meta({ description: 'The plaintext key: shown once, store it now' }) })
  .meta({ id: 'CreatedApiKey' });

export const apiKeyList = z.object({ keys: z.array(apiKey) }).meta({ id: 'ApiKeyList' });
