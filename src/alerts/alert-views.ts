import type { StoredRule } from './alert-rule.repository.js';
import type { AlertRuleJson } from './alert-rules.schema.js';
import type { StoredAlert, StoredEvaluation } from './alert.repository.js';

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** A rule as the API shows it and the webhook events carry it. */
export const presentRule = (rule: StoredRule): AlertRuleJson => ({
  id: rule.id,
  kind: rule.kind,
  threshold: rule.threshold,
  aggregate: rule.aggregate,
  window: rule.window_duration,
  for: rule.for_duration,
  minutes: rule.silent_minutes,
  severity: rule.severity,
  devices: rule.devices,
  enabled: rule.enabled,
  createdAt: rule.created_at.toISOString(),
  updatedAt: rule.updated_at.toISOString(),
});

/** An alert without its rule or evaluations. */
export const presentAlert = (alert: StoredAlert) => ({
  id: alert.id,
  ruleId: alert.rule_id,
  device: { kind: alert.subject_kind, id: alert.device_id },
  state: alert.state,
  startedAt: alert.started_at.toISOString(),
  firedAt: iso(alert.fired_at),
  resolvedAt: iso(alert.resolved_at),
  resolvedReason: alert.resolved_reason,
  figures: alert.figures,
});

export const presentEvaluation = (evaluation: StoredEvaluation) => ({
  evaluatedAt: evaluation.evaluated_at.toISOString(),
  conditionHolds: evaluation.condition_holds,
  value: evaluation.value,
  figures: evaluation.figures,
});

/**
 * The `data` of an alert.firing or alert.resolved event (docs/alerts.md): the alert as it is
 * after the change, its rule, the device and the figures that decided it.
 */
export function alertEventPayload(alert: StoredAlert, rule: StoredRule): Record<string, unknown> {
  const { device, figures, ...rest } = presentAlert(alert);
  return { alert: rest, rule: presentRule(rule), device, figures };
}
