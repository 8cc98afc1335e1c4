import { z } from 'zod';
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
