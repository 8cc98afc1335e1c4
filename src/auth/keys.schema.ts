import { z } from 'zod';

import { instantJson } from '../http/common.schema.js';
import { deviceIdSchema } from '../http/device-id.schema.js';
import { DEVICE_KINDS, SCOPES } from './api-key.table.js';

const deviceKind = z
  .enum(DEVICE_KINDS as ['meter', 'vehicle'], { message: 'must be meter or vehicle' })
  .meta({ description: 'The kind of the device of `deviceId`: its key may post to /v1/ingestion/{deviceKind} only' });

export const createKeyBody = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    scopes: z
      .array(z.enum(SCOPES as ['ingest', 'read', 'admin'], { message: 'must be one of ingest, read, admin' }))
      .min(1, 'must hold at least one scope')
      .transform((scopes) => [...new Set(scopes)]),
    deviceId: deviceIdSchema.optional(),
    deviceKind: deviceKind.optional(),
  })
  // A device is a kind and an id: one without the other binds nothing definite.
  .refine((body) => body.deviceId === undefined || body.deviceKind !== undefined, {
    path: ['deviceKind'],
    message: 'is required with deviceId (meter or vehicle)',
  })
  .refine((body) => body.deviceKind === undefined || body.deviceId !== undefined, {
    path: ['deviceId'],
    message: 'is required with deviceKind',
  });

export const keyParams = z.object({ id: z.uuid('must be a key id (UUID)') });

export const apiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES as ['ingest', 'read', 'admin'])),
    deviceId: z.string().nullable().meta({ description: 'The only device this key may send readings for; null: any' }),
    deviceKind: z
      .enum(DEVICE_KINDS as ['meter', 'vehicle'])
      .nullable()
      .meta({ description: 'The kind of that device; null without a deviceId' }),
    createdAt: instantJson,
  })
  .meta({ id: 'ApiKey' });

export const createdApiKey = apiKey
  .extend({ key: z.string().meta({ description: 'The plaintext key: shown once, store it now' }) })
  .meta({ id: 'CreatedApiKey' });

export const apiKeyList = z.object({ keys: z.array(apiKey) }).meta({ id: 'ApiKeyList' });
