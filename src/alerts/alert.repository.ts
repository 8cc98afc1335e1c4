import { type Selectable, sql } from 'kysely';

import type { Db } from '../db/database.js';
import type {
  AlertEvaluationTable,
  AlertState,
  AlertSubjectKind,
  AlertTable,
  ResolvedReason,
} from './alert-rule.table.js';

export type StoredAlert = Selectable<AlertTable>;
export type StoredEvaluation = Selectable<AlertEvaluationTable>;

/** An alert keeps its latest evaluations only: enough to see how it got here, bounded for a long firing. */
export const MAX_EVALUATIONS_PER_ALERT = 100;

/** JSON text cast by the server: a string bound to a jsonb parameter would be stored as a JSON string. */
const jsonb = (value: Record<string, unknown>) => sql<string>`(${JSON.stringify(value)}::text)::jsonb`;

/** The rule's pending and firing alerts (at most one per subject: index alerts_one_open). */
export async function findOpenAlerts(trx: Db, ruleId: number): Promise<StoredAlert[]> {
  return trx
    .selectFrom('alerts')
    .selectAll()
    .where('rule_id', '=', ruleId)
    .where('state', 'in', ['pending', 'firing'])
    .execute();
}

export async function insertAlert(
  trx: Db,
  alert: {
    ruleId: number;
    subjectKind: AlertSubjectKind;
    deviceId: string;
    state: 'pending' | 'firing';
    startedAt: Date;
    firedAt: Date | null;
    figures: Record<string, unknown>;
  },
): Promise<StoredAlert> {
  return trx
    .insertInto('alerts')
    .values({
      rule_id: alert.ruleId,
      subject_kind: alert.subjectKind,
      device_id: alert.deviceId,
      state: alert.state,
      started_at: alert.startedAt,
      fired_at: alert.firedAt,
      figures: jsonb(alert.figures),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateAlert(
  trx: Db,
  id: number,
  change: {
    state?: AlertState;
    firedAt?: Date;
    resolvedAt?: Date;
    resolvedReason?: ResolvedReason;
    figures?: Record<string, unknown>;
  },
): Promise<StoredAlert> {
  return trx
    .updateTable('alerts')
    .set({
      ...(change.state ? { state: change.state } : {}),
      ...(change.firedAt ? { fired_at: change.firedAt } : {}),
      ...(change.resolvedAt ? { resolved_at: change.resolvedAt } : {}),
      ...(change.resolvedReason ? { resolved_reason: change.resolvedReason } : {}),
      ...(change.figures ? { figures: jsonb(change.figures) } : {}),
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Records one evaluation of an alert and drops those beyond the latest MAX_EVALUATIONS_PER_ALERT. */
export async function insertEvaluation(
  trx: Db,
  evaluation: { alertId: number; at: Date; holds: boolean; value: number | null; figures: Record<string, unknown> },
): Promise<void> {
  await trx
    .insertInto('alert_evaluations')
    .values({
      alert_id: evaluation.alertId,
      evaluated_at: evaluation.at,
      condition_holds: evaluation.holds,
      value: evaluation.value,
      figures: jsonb(evaluation.figures),
    })
    .execute();
  await sql`
    DELETE FROM alert_evaluations WHERE alert_id = ${evaluation.alertId} AND id NOT IN (
      SELECT id FROM alert_evaluations WHERE alert_id = ${evaluation.alertId}
      ORDER BY evaluated_at DESC, id DESC LIMIT ${MAX_EVALUATIONS_PER_ALERT})`.execute(trx);
}

export interface AlertFilter {
  state?: AlertState | undefined;
  ruleId?: number | undefined;
  deviceId?: string | undefined;
  /** Only alerts older (lower id) than this: the previous page's last. */
  before?: number | undefined;
  limit: number;
}

/** Newest first. */
export async function listAlerts(db: Db, filter: AlertFilter): Promise<StoredAlert[]> {
  return db
    .selectFrom('alerts')
    .selectAll()
    .$if(filter.state !== undefined, (qb) => qb.where('state', '=', filter.state!))
    .$if(filter.ruleId !== undefined, (qb) => qb.where('rule_id', '=', filter.ruleId!))
    .$if(filter.deviceId !== undefined, (qb) => qb.where('device_id', '=', filter.deviceId!))
    .$if(filter.before !== undefined, (qb) => qb.where('id', '<', filter.before!))
    .orderBy('id', 'desc')
    .limit(filter.limit)
    .execute();
}

export async function findAlert(db: Db, id: number): Promise<StoredAlert | undefined> {
  return db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** An alert's kept evaluations, newest first. */
export async function listEvaluations(db: Db, alertId: number): Promise<StoredEvaluation[]> {
  return db
    .selectFrom('alert_evaluations')
    .selectAll()
    .where('alert_id', '=', alertId)
    .orderBy('evaluated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(MAX_EVALUATIONS_PER_ALERT)
    .execute();
}
