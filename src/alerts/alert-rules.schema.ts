import { z } from 'zod';

import { instantJson } from '../http/common.schema.js';
import { deviceIdSchema } from '../http/device-id.schema.js';
import { DAY_MS, MINUTE_MS } from '../time.js';
import { ALERT_RULE_KINDS, ALERT_SEVERITIES, TEMPERATURE_AGGREGATES } from './alert-rule.table.js';
import { isoDurationField } from './iso-duration.js';

/** The analytics answer windows of up to 31 days (requested-window.ts): so does a rule. */
const windowField = isoDurationField({ min: MINUTE_MS, max: 31 * DAY_MS, minText: 'PT1M', maxText: 'P31D' }).meta({
  description: 'The rolling window ending at each evaluation, ISO 8601 (e.g. `PT24H`)',
});
const forField = isoDurationField({ min: 0, max: 31 * DAY_MS, minText: 'PT0S', maxText: 'P31D' }).meta({
  description: 'How long the condition must hold before the alert fires, ISO 8601 (`PT0S`: at once)',
});

export const MAX_RULE_DEVICES = 1000;
const devicesField = z
  .array(deviceIdSchema, 'must be an array of device ids, or null for the whole fleet')
  .min(1, 'must list at least one device (null: the whole fleet)')
  .max(MAX_RULE_DEVICES, `must list at most ${MAX_RULE_DEVICES} devices`)
  .refine((ids) => new Set(ids).size === ids.length, 'must not list a device twice')
  .nullable()
  .meta({ description: 'Only these devices (vehicle or meter ids); absent or null: the whole fleet' });
const severityField = z.enum(ALERT_SEVERITIES, 'must be warning or critical');
const enabledField = z.boolean('must be true or false');

const common = {
  devices: devicesField.optional(),
  severity: severityField.optional(),
  enabled: enabledField.optional(),
};

const ratio = z
  .number('must be a number')
  .gt(0, 'must be greater than 0')
  .max(1, 'must be at most 1 (a DC/AC ratio)')
  .meta({ description: 'The DC/AC ratio the efficiency must fall below' });
const celsius = z
  .number('must be a number')
  .min(-50, 'must be between -50 and 150 °C')
  .max(150, 'must be between -50 and 150 °C')
  .meta({ description: '°C; default 45 (severity warning) or 55 (critical)' });

/** Each kind's fields; what a kind does not use is refused (strict), not silently ignored. */
const bodies = {
  efficiency_below: { threshold: ratio.optional(), window: windowField.optional(), for: forField.optional() },
  battery_temperature_above: {
    aggregate: z.enum(TEMPERATURE_AGGREGATES, 'must be avg or max').optional(),
    threshold: celsius.optional(),
    window: windowField.optional(),
    for: forField.optional(),
  },
  device_silent: {
    minutes: z
      .number('must be a number')
      .int('must be a whole number of minutes')
      .min(1, 'must be between 1 and 10080 (a week)')
      .max(10_080, 'must be between 1 and 10080 (a week)')
      .optional()
      .meta({ description: 'No reading received for longer than this; default 5 (five missed readings)' }),
    for: forField.optional(),
  },
  register_event: { window: windowField.optional(), for: forField.optional() },
  // Dead letters belong to a stream, not to a device: no device list.
  dead_letter: { window: windowField.optional(), for: forField.optional() },
} as const;

/**
 * Refuses the fields `shape` does not declare, each in its own detail (a strict object would
 * report them all at once at the object, without saying which field to look at).
 */
function onlyFields<T extends z.core.$ZodLooseShape>(shape: T, message: string) {
  return z.looseObject(shape).superRefine((value, ctx) => {
    for (const key of Object.keys(value)) {
      if (!(key in shape)) ctx.addIssue({ code: 'custom', path: [key], message });
    }
  });
}

const kindBody = <K extends keyof typeof bodies>(kind: K) =>
  onlyFields(
    {
      kind: z.literal(kind),
      ...bodies[kind],
      ...(kind === 'dead_letter' ? { severity: common.severity, enabled: common.enabled } : common),
    },
    `is not a field of ${kind} rules`,
  );

export const createRuleBody = z
  .discriminatedUnion(
    'kind',
    [
      kindBody('efficiency_below'),
      kindBody('battery_temperature_above'),
      kindBody('device_silent'),
      kindBody('register_event'),
      kindBody('dead_letter'),
    ],
    { error: `must be one of ${ALERT_RULE_KINDS.join(', ')}` },
  )
  .meta({ id: 'AlertRuleInput' });
export type CreateRuleBody = z.output<typeof createRuleBody>;

/** What PATCH may change: any field of the rule's kind but the kind (checked against the kind in the handler). */
export const patchRuleBody = onlyFields(
  {
    kind: z.never('cannot be changed: delete the rule and create another').optional(),
    threshold: z.number('must be a number').optional(),
    aggregate: z.string().optional(),
    window: z.string('must be an ISO 8601 duration string, e.g. "PT15M"').optional(),
    for: z.string('must be an ISO 8601 duration string, e.g. "PT15M"').optional(),
    minutes: z.number('must be a number').optional(),
    devices: z.array(z.string()).nullable().optional(),
    severity: z.string().optional(),
    enabled: z.boolean('must be true or false').optional(),
  },
  'is not a field of an alert rule',
).meta({
  id: 'AlertRulePatch',
  description: "Fields to change; each is checked as on creation, for the rule's kind (which cannot change)",
});

// The example is the rule a fresh install has (the efficiency rule of the original design).
export const ruleParams = z.object({
  id: z.coerce.number('must be a rule id').int('must be a rule id').positive('must be a rule id').meta({ example: 1 }),
});

export const alertRule = z
  .object({
    id: z.number().int(),
    kind: z.enum(ALERT_RULE_KINDS),
    threshold: z.number().nullable().meta({ description: 'efficiency_below: ratio; battery_temperature_above: °C' }),
    aggregate: z.enum(TEMPERATURE_AGGREGATES).nullable().meta({ description: 'battery_temperature_above only' }),
    window: z.string().nullable().meta({ description: 'ISO 8601; null for device_silent' }),
    for: z.string(),
    minutes: z.number().int().nullable().meta({ description: 'device_silent only' }),
    severity: z.enum(ALERT_SEVERITIES),
    devices: z.array(z.string()).nullable().meta({ description: 'null: the whole fleet' }),
    enabled: z.boolean(),
    createdAt: instantJson,
    updatedAt: instantJson,
  })
  .meta({ id: 'AlertRule' });
export type AlertRuleJson = z.infer<typeof alertRule>;

export const alertRuleList = z.object({ items: z.array(alertRule) }).meta({ id: 'AlertRuleList' });
