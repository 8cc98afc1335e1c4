import type { ColumnType, Generated } from 'kysely';

/** What a rule watches (docs/alerts.md). */
export const ALERT_RULE_KINDS = [
  'efficiency_below',
  'battery_temperature_above',
  'device_silent',
  'register_event',
  'dead_letter',
] as const;
export type AlertRuleKind = (typeof ALERT_RULE_KINDS)[number];

export const ALERT_SEVERITIES = ['warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const TEMPERATURE_AGGREGATES = ['avg', 'max'] as const;
export type TemperatureAggregate = (typeof TEMPERATURE_AGGREGATES)[number];

export const ALERT_STATES = ['pending', 'firing', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** What an alert is about: a vehicle, a meter, or (dead letters) a stream. */
export type AlertSubjectKind = 'vehicle' | 'meter' | 'stream';

export type ResolvedReason = 'condition_cleared' | 'rule_disabled' | 'rule_deleted';

/** Migration 1764201600024. */
export interface AlertRuleTable {
  id: Generated<number>;
  kind: AlertRuleKind;
  threshold: number | null;
  aggregate: TemperatureAggregate | null;
  /** ISO 8601 (iso-duration.ts). */
  window_duration: string | null;
  for_duration: string;
  silent_minutes: number | null;
  severity: AlertSeverity;
  /** null: the whole fleet. */
  devices: string[] | null;
  enabled: boolean;
  evaluated_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  deleted_at: Date | null;
}

export interface AlertTable {
  id: Generated<number>;
  rule_id: number;
  subject_kind: AlertSubjectKind;
  device_id: string;
  state: AlertState;
  started_at: Date;
  fired_at: Date | null;
  resolved_at: Date | null;
  resolved_reason: ResolvedReason | null;
  /** Written as JSON text cast to jsonb, read back parsed. */
  figures: ColumnType<Record<string, unknown>, string, string>;
  updated_at: Generated<Date>;
}

export interface AlertEvaluationTable {
  id: Generated<number>;
  alert_id: number;
  evaluated_at: Date;
  condition_holds: boolean;
  value: number | null;
  figures: ColumnType<Record<string, unknown>, string, string>;
}
