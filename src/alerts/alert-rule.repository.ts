import { type Insertable, type Selectable, type Updateable, sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { AlertRuleTable } from './alert-rule.table.js';

export type StoredRule = Selectable<AlertRuleTable>;
export type RuleValues = Omit<
  Insertable<AlertRuleTable>,
  'id' | 'created_at' | 'updated_at' | 'deleted_at' | 'evaluated_at'
>;

/** A text[] parameter: a JS array bound as one (a list would expand to several parameters). */
const textArray = (ids: readonly string[] | null | undefined) =>
  ids === null || ids === undefined ? null : sql<string[]>`${ids}::text[]`;

export async function insertRule(db: Db, values: RuleValues): Promise<StoredRule> {
  return db
    .insertInto('alert_rules')
    .values({ ...values, devices: textArray(values.devices) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The rules not deleted, oldest first. */
export async function listRules(db: Db, filter: { enabledOnly?: boolean } = {}): Promise<StoredRule[]> {
  return db
    .selectFrom('alert_rules')
    .selectAll()
    .where('deleted_at', 'is', null)
    .$if(filter.enabledOnly === true, (qb) => qb.where('enabled', '=', true))
    .orderBy('id')
    .execute();
}

/** A rule by id; a deleted one only with `includeDeleted` (an alert's history still shows its rule). */
export async function findRule(db: Db, id: number, includeDeleted = false): Promise<StoredRule | undefined> {
  return db
    .selectFrom('alert_rules')
    .selectAll()
    .where('id', '=', id)
    .$if(!includeDeleted, (qb) => qb.where('deleted_at', 'is', null))
    .executeTakeFirst();
}

/**
 * The rule, locked until the caller's transaction ends: the one place its alerts change (an
 * evaluation, a PATCH, a DELETE), so two instances never move the same alert at once.
 */
export async function lockRule(trx: Db, id: number): Promise<StoredRule | undefined> {
  return trx
    .selectFrom('alert_rules')
    .selectAll()
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
}

export async function updateRule(
  trx: Db,
  id: number,
  values: Omit<Updateable<AlertRuleTable>, 'id' | 'kind' | 'created_at'>,
): Promise<StoredRule> {
  const { devices, ...rest } = values;
  return trx
    .updateTable('alert_rules')
    .set({ ...rest, ...(devices !== undefined ? { devices: textArray(devices) } : {}), updated_at: sql`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function markRuleDeleted(trx: Db, id: number): Promise<void> {
  await trx
    .updateTable('alert_rules')
    .set({ deleted_at: sql`now()`, updated_at: sql`now()` })
    .where('id', '=', id)
    .execute();
}

export async function markRuleEvaluated(trx: Db, id: number, at: Date): Promise<void> {
  await trx.updateTable('alert_rules').set({ evaluated_at: at }).where('id', '=', id).execute();
}
