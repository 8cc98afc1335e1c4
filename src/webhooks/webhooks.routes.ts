import type { Scope } from '../auth/api-key.table.js';
import type { Db } from '../db/database.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../http/app-error.js';
import { refuseTargetUrl } from './target-address.js';
import { generateSecret } from './webhook-signature.js';
import {
  type StoredDelivery,
  type StoredWebhook,
  createWebhook,
  deleteWebhook,
  enqueueTestDelivery,
  findWebhook,
  listDeliveries,
  listWebhooks,
  redeliver,
} from './webhook.repository.js';
import {
  createdWebhook,
  createWebhookBody,
  deliveriesQuery,
  deliveryList,
  deliveryParams,
  deliveryView,
  testAccepted,
  webhookList,
  webhookParams,
  webhookView,
} from './webhooks.schema.js';

const present = (webhook: StoredWebhook) => ({
  id: webhook.id,
  url: webhook.url,
  events: webhook.events,
  createdAt: webhook.createdAt.toISOString(),
});

const presentDelivery = (d: StoredDelivery) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.status === 'pending' || d.status === 'delivering' ? d.nextAttemptAt.toISOString() : null,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  createdAt: d.createdAt.toISOString(),
  deliveredAt: d.deliveredAt?.toISOString() ?? null,
});

async function webhookOrThrow(db: Db, id: string): Promise<StoredWebhook> {
  const webhook = await findWebhook(db, id);
  if (!webhook) throw new AppError('webhook_not_found', `No webhook ${id}.`);
  return webhook;
}

export interface WebhookRouteOptions {
  /** WEBHOOK_ALLOW_INSECURE_TARGETS: plain http, loopback and private targets. */
  allowInsecureTargets: boolean;
}

/** Webhooks (docs/webhooks.md; admin scope). The secret is shown once, at creation. */
export function registerWebhookRoutes(api: ApiRouter<Scope>, db: Db, options: WebhookRouteOptions): void {
  const tag = 'Webhooks';
  api.add({
    method: 'post',
    path: '/v1/webhooks',
    operationId: 'createWebhook',
    tag,
    summary: 'Register a webhook: signed POSTs of the events it subscribes to',
    description:
      'Deliveries follow Standard Webhooks (headers `webhook-id`, `webhook-timestamp`, `webhook-signature`): verify ' +
      'them with the `standardwebhooks` library and this secret. Without `secret` the service generates one; either ' +
      'way it is in this response only. The URL must be https and must not name a loopback, private or link-local ' +
      'address (see docs/webhooks.md); a host name is checked again on each delivery, on the addresses it resolves to.',
    scope: 'admin',
    request: { body: createWebhookBody },
    status: 201,
    response: { description: 'The webhook, with its secret', schema: createdWebhook },
    errors: ['webhook_target_refused'],
    handler: async ({ body }) => {
      const refused = refuseTargetUrl(new URL(body.url), options.allowInsecureTargets);
      if (refused !== undefined) {
        throw new AppError('webhook_target_refused', `The webhook URL ${refused}.`, {
          details: [{ path: 'url', message: refused }],
        });
      }
      const secret = body.secret ?? generateSecret();
      const webhook = await createWebhook(db, { url: body.url, secret, events: body.events });
      return { ...present(webhook), secret };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/webhooks',
    operationId: 'listWebhooks',
    tag,
    summary: 'List the webhooks (never their secrets)',
    scope: 'admin',
    status: 200,
    response: { description: 'The webhooks', schema: webhookList },
    handler: async () => ({ webhooks: (await listWebhooks(db)).map(present) }),
  });

  api.add({
    method: 'get',
    path: '/v1/webhooks/:id',
    operationId: 'getWebhook',
    tag,
    summary: 'A webhook (not its secret)',
    scope: 'admin',
    request: { params: webhookParams },
    status: 200,
    response: { description: 'The webhook', schema: webhookView },
    errors: ['webhook_not_found'],
    handler: async ({ params }) => present(await webhookOrThrow(db, params.id)),
  });

  api.add({
    method: 'delete',
    path: '/v1/webhooks/:id',
    operationId: 'deleteWebhook',
    tag,
    summary: 'Delete a webhook: no new deliveries, the pending ones cancelled',
    scope: 'admin',
    request: { params: webhookParams },
    status: 204,
    response: { description: 'Deleted' },
    errors: ['webhook_not_found'],
    handler: async ({ params }) => {
      if (!(await deleteWebhook(db, params.id))) throw new AppError('webhook_not_found', `No webhook ${params.id}.`);
    },
  });

  api.add({
    method: 'post',
    path: '/v1/webhooks/:id/test',
    operationId: 'testWebhook',
    tag,
    summary: 'Send a `webhook.test` event to this webhook only',
    description: 'Delivered like any event (signed, retried); follow it in the delivery log.',
    scope: 'admin',
    request: { params: webhookParams },
    status: 202,
    response: { description: 'The test event is queued', schema: testAccepted },
    errors: ['webhook_not_found'],
    handler: async ({ params }) => {
      await webhookOrThrow(db, params.id);
      return enqueueTestDelivery(db, params.id);
    },
  });

  api.add({
    method: 'get',
    path: '/v1/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    tag,
    summary: "The webhook's delivery log, newest first",
    scope: 'admin',
    request: { params: webhookParams, query: deliveriesQuery },
    status: 200,
    response: { description: 'Deliveries', schema: deliveryList },
    errors: ['webhook_not_found'],
    handler: async ({ params, query }) => {
      await webhookOrThrow(db, params.id);
      const page = await listDeliveries(db, params.id, query);
      return {
        deliveries: page.map(presentDelivery),
        nextCursor: page.length === query.limit ? page[page.length - 1]!.id : null,
      };
    },
  });

  api.add({
    method: 'post',
    path: '/v1/webhooks/:id/deliveries/:deliveryId/redeliver',
    operationId: 'redeliverWebhookDelivery',
    tag,
    summary: 'Send a delivery again, now (same event id), with a fresh retry period',
    scope: 'admin',
    request: { params: deliveryParams },
    status: 202,
    response: { description: 'The delivery, pending', schema: deliveryView },
    errors: ['webhook_not_found', 'webhook_delivery_not_found', 'webhook_delivery_in_flight'],
    handler: async ({ params }) => {
      await webhookOrThrow(db, params.id);
      const result = await redeliver(db, params.id, params.deliveryId);
      if ('delivery' in result) return presentDelivery(result.delivery);
      if (result.problem === 'in_flight') {
        throw new AppError('webhook_delivery_in_flight', `Delivery ${params.deliveryId} is being sent right now.`);
      }
      throw new AppError('webhook_delivery_not_found', `No delivery ${params.deliveryId} of webhook ${params.id}.`);
    },
  });
}
