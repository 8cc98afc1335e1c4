import { z } from 'zod';

import { instantJson, pageLimitQuery } from '../http/common.schema.js';
import { WEBHOOK_EVENT_TYPES } from './webhook-event.table.js';
import { secretProblem } from './webhook-signature.js';
import { DELIVERY_STATUSES } from './webhook.table.js';

const MAX_URL_LENGTH = 2048;

export const createWebhookBody = z.object({
  url: z
    .string('must be a URL')
    .trim()
    .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
    .refine((value) => URL.canParse(value), 'must be an absolute URL')
    .meta({
      description:
        'Where events are POSTed: https (plain http, loopback and private addresses only with ' +
        '`WEBHOOK_ALLOW_INSECURE_TARGETS=true`; link-local never)',
      example: 'https://ops.example.com/hooks/ev',
    }),
  secret: z
    .string('must be a string')
    .superRefine((value, ctx) => {
      const problem = secretProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .meta({ description: 'The signing secret, `whsec_` + base64 of 16-64 bytes; omitted: the service generates one' }),
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES, { message: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
    .min(1, 'must hold at least one event type')
    .transform((events) => [...new Set(events)])
    .meta({ description: 'The event types to receive' }),
});

/** The id the reference's examples use (test/openapi.test.ts registers a webhook with it). */
export const EXAMPLE_WEBHOOK_ID = '5b1f0c9e-2d4a-4f7b-8c3e-6a9d0e1f2a3b';

export const webhookParams = z.object({
  id: z.uuid('must be a webhook id (UUID)').meta({ example: EXAMPLE_WEBHOOK_ID }),
});

export const deliveryParams = webhookParams.extend({
  deliveryId: z.coerce
    .number({ message: 'must be a delivery id' })
    .int('must be a delivery id')
    .positive('must be a delivery id')
    .max(Number.MAX_SAFE_INTEGER, 'must be a delivery id')
    .meta({ example: 1 }),
});

export const deliveriesQuery = z.object({
  limit: pageLimitQuery,
  before: z.coerce
    .number({ message: 'must be a delivery id' })
    .int('must be a delivery id')
    .positive('must be a delivery id')
    .max(Number.MAX_SAFE_INTEGER, 'must be a delivery id')
    .optional()
    .meta({ description: '`nextCursor` of the previous page: deliveries older than this one' }),
});

export const webhookView = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.string()),
    createdAt: instantJson,
  })
  .meta({ id: 'Webhook' });

export const createdWebhook = webhookView
  .extend({ secret: z.string().meta({ description: 'The signing secret: shown once, store it now' }) })
  .meta({ id: 'CreatedWebhook' });

export const webhookList = z.object({ webhooks: z.array(webhookView) }).meta({ id: 'WebhookList' });

export const deliveryView = z
  .object({
    id: z.number().int(),
    eventId: z.string().meta({ description: 'The `webhook-id` header: the same on every attempt' }),
    eventType: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    nextAttemptAt: instantJson.nullable().meta({ description: 'When it is tried next; null when done' }),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: instantJson,
    deliveredAt: instantJson.nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

export const deliveryList = z
  .object({
    deliveries: z.array(deliveryView),
    nextCursor: z.number().int().nullable().meta({ description: 'Send as `before` for older deliveries' }),
  })
  .meta({ id: 'WebhookDeliveryList' });

export const testAccepted = z
  .object({ eventId: z.string(), deliveryId: z.number().int() })
  .meta({ id: 'WebhookTestAccepted' });
