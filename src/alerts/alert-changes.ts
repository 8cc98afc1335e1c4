import type { Db } from '../db/database.js';
import { enqueueWebhookEvent } from '../webhooks/webhook-outbox.repository.js';
import type { StoredRule } from './alert-rule.repository.js';
import type { ResolvedReason } from './alert-rule.table.js';
import { alertEventPayload } from './alert-views.js';
import { findOpenAlerts, updateAlert, type StoredAlert } from './alert.repository.js';

/**
 * The two changes an operator sees. Each writes its webhook event in the caller's transaction
 * (the one that changes the alert), keyed by the alert so its events reach a receiver in order.
 */
export async function fireAlert(trx: Db, alert: StoredAlert, rule: StoredRule): Promise<void> {
  await enqueueWebhookEvent(trx, {
    type: 'alert.firing',
    orderingKey: String(alert.id),
    payload: alertEventPayload(alert, rule),
  });
}

/** Resolves an open alert: alert.resolved when it had fired; a pending one resolves silently. */
export async function resolveAlert(
  trx: Db,
  alert: StoredAlert,
  rule: StoredRule,
  change: { at: Date; reason: ResolvedReason; figures?: Record<string, unknown> },
): Promise<StoredAlert> {
  const wasFiring = alert.state === 'firing';
  const resolved = await updateAlert(trx, alert.id, {
    state: 'resolved',
    resolvedAt: change.at,
    resolvedReason: change.reason,
    ...(change.figures ? { figures: change.figures } : {}),
  });
  if (wasFiring) {
    await enqueueWebhookEvent(trx, {
      type: 'alert.resolved',
      orderingKey: String(alert.id),
      payload: alertEventPayload(resolved, rule),
    });
  }
  return resolved;
}

/** When a rule is disabled, deleted or changed by an operator: its open alerts resolve now. */
export async function resolveOpenAlerts(trx: Db, rule: StoredRule, reason: ResolvedReason, at: Date): Promise<void> {
  for (const alert of await findOpenAlerts(trx, rule.id)) await resolveAlert(trx, alert, rule, { at, reason });
}
