import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import { issuesToDetails } from '../http/validate.js';
import { resolveOpenAlerts } from './alert-changes.js';
import { DEFAULT_SILENT_MINUTES } from './alert-conditions.js';
import {
  insertRule,
  lockRule,
  markRuleDeleted,
  updateRule,
  type RuleValues,
  type StoredRule,
} from './alert-rule.repository.js';
import { createRuleBody, type CreateRuleBody } from './alert-rules.schema.js';

/** The defaults of a kind: the original design's efficiency line, the issue's temperature limits. */
const DEFAULTS = {
  efficiencyThreshold: 0.85,
  efficiencyWindow: 'PT24H',
  efficiencyFor: 'PT15M',
  temperature: { warning: 45, critical: 55 },
  temperatureWindow: 'PT1H',
  temperatureFor: 'PT5M',
  eventWindow: 'PT1H',
} as const;

/** The columns of a valid rule, defaults filled in per kind (docs/alerts.md). */
function ruleValues(body: CreateRuleBody): RuleValues {
  const severity = body.severity ?? 'warning';
  const base = {
    kind: body.kind,
    severity,
    enabled: body.enabled ?? true,
    // dead_letter has no device list (the schema refuses one).
    devices: body.kind === 'dead_letter' ? null : ((body.devices as string[] | null | undefined) ?? null),
    threshold: null,
    aggregate: null,
    window_duration: null,
    silent_minutes: null,
  };
  switch (body.kind) {
    case 'efficiency_below':
      return {
        ...base,
        threshold: body.threshold ?? DEFAULTS.efficiencyThreshold,
        window_duration: body.window ?? DEFAULTS.efficiencyWindow,
        for_duration: body.for ?? DEFAULTS.efficiencyFor,
      };
    case 'battery_temperature_above':
      return {
        ...base,
        aggregate: body.aggregate ?? 'avg',
        threshold: body.threshold ?? DEFAULTS.temperature[severity],
        window_duration: body.window ?? DEFAULTS.temperatureWindow,
        for_duration: body.for ?? DEFAULTS.temperatureFor,
      };
    case 'device_silent':
      return { ...base, silent_minutes: body.minutes ?? DEFAULT_SILENT_MINUTES, for_duration: body.for ?? 'PT0S' };
    case 'register_event':
    case 'dead_letter':
      return { ...base, window_duration: body.window ?? DEFAULTS.eventWindow, for_duration: body.for ?? 'PT0S' };
  }
}

/** A stored rule as the body that would create it: what a PATCH is merged into. */
function asInput(rule: StoredRule): Record<string, unknown> {
  const fields: Record<string, unknown> = { kind: rule.kind, severity: rule.severity, enabled: rule.enabled };
  if (rule.kind !== 'dead_letter') fields.devices = rule.devices;
  if (rule.threshold !== null) fields.threshold = rule.threshold;
  if (rule.aggregate !== null) fields.aggregate = rule.aggregate;
  if (rule.window_duration !== null) fields.window = rule.window_duration;
  if (rule.silent_minutes !== null) fields.minutes = rule.silent_minutes;
  fields.for = rule.for_duration;
  return fields;
}

export const createRule = (db: Db, body: CreateRuleBody) => insertRule(db, ruleValues(body));

const notFound = (id: number) => new AppError('alert_rule_not_found', `No alert rule ${id}.`);

/**
 * Changes a rule: the fields are checked as on creation, for the rule's kind. Disabling it
 * resolves its open alerts in the same transaction (alert.resolved for the firing ones); any
 * other change leaves them to the next evaluation, which judges them by the new rule.
 */
export async function patchRule(db: Db, id: number, patch: Record<string, unknown>): Promise<StoredRule> {
  return db.transaction().execute(async (trx) => {
    const rule = await lockRule(trx, id);
    if (!rule) throw notFound(id);
    const merged = createRuleBody.safeParse({ ...asInput(rule), ...patch });
    if (!merged.success) throw AppError.validation(issuesToDetails(merged.error.issues));
    const { threshold, aggregate, window_duration, for_duration, silent_minutes, severity, devices, enabled } =
      ruleValues(merged.data);
    const changes = { threshold, aggregate, window_duration, for_duration, silent_minutes, severity, devices, enabled };
    const updated = await updateRule(trx, id, changes);
    if (rule.enabled && !updated.enabled) await resolveOpenAlerts(trx, updated, 'rule_disabled', new Date());
    return updated;
  });
}

/** Deletes a rule: its open alerts resolve (alert.resolved for the firing ones); its history stays. */
export async function deleteRule(db: Db, id: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const rule = await lockRule(trx, id);
    if (!rule) throw notFound(id);
    await resolveOpenAlerts(trx, rule, 'rule_deleted', new Date());
    await markRuleDeleted(trx, id);
  });
}

export { notFound as ruleNotFound };
