import { z } from 'zod';

import { instantJson, pageLimitQuery } from '../http/common.schema.js';
import { deviceIdSchema } from '../http/device-id.schema.js';
import { ALERT_STATES } from './alert-rule.table.js';
import { alertRule } from './alert-rules.schema.js';

const id = (what: string) =>
  z.coerce.number(`must be ${what} id`).int(`must be ${what} id`).positive(`must be ${what} id`);

export const alertParams = z.object({ id: id('an alert').meta({ example: 1 }) });

export const alertsQuery = z.object({
  state: z
    .enum(ALERT_STATES, 'must be pending, firing or resolved')
    .optional()
    .meta({ description: 'Only alerts in this state' }),
  rule: id('a rule').optional().meta({ description: 'Only the alerts of this rule' }),
  device: z
    .string()
    .pipe(deviceIdSchema)
    .optional()
    .meta({ description: 'Only the alerts of this device (vehicle, meter or stream)' }),
  before: id('an alert')
    .optional()
    .meta({ description: '`nextBefore` of the previous page: the alerts older than it' }),
  limit: pageLimitQuery,
});

const alertJson = {
  id: z.number().int(),
  ruleId: z.number().int(),
  device: z.object({
    kind: z.enum(['vehicle', 'meter', 'stream']),
    id: z.string(),
  }),
  state: z.enum(ALERT_STATES),
  startedAt: instantJson.meta({ description: 'Since when the condition holds (pending since)' }),
  firedAt: instantJson.nullable(),
  resolvedAt: instantJson.nullable(),
  resolvedReason: z
    .enum(['condition_cleared', 'rule_disabled', 'rule_deleted'])
    .nullable()
    .meta({ description: 'Why it resolved; null while open' }),
  figures: z.record(z.string(), z.unknown()).meta({
    description:
      'The figures of its latest evaluation; for efficiency_below those of GET /v1/analytics/performance over `window`',
  }),
};

export const alertSummary = z.object(alertJson).meta({ id: 'Alert' });

export const alertPage = z
  .object({
    items: z.array(alertSummary).meta({ description: 'Newest first' }),
    nextBefore: z.number().int().nullable().meta({ description: 'null on the last page' }),
  })
  .meta({ id: 'AlertPage' });

export const alertDetail = z
  .object({
    ...alertJson,
    rule: alertRule,
    evaluations: z
      .array(
        z.object({
          evaluatedAt: instantJson,
          conditionHolds: z.boolean(),
          value: z.number().nullable().meta({ description: 'The figure compared with the rule' }),
          figures: z.record(z.string(), z.unknown()),
        }),
      )
      .meta({ description: 'Its latest evaluations (at most 100), newest first' }),
  })
  .meta({ id: 'AlertDetail' });

export type AlertPage = z.infer<typeof alertPage>;
