import type { Scope } from '../auth/api-key.table.js';
import type { Db } from '../db/database.js';
import type { ApiRouter } from '../http/api-router.js';
import { findRule, listRules } from './alert-rule.repository.js';
import { alertRule, alertRuleList, createRuleBody, patchRuleBody, ruleParams } from './alert-rules.schema.js';
import { createRule, deleteRule, patchRule, ruleNotFound } from './alert-rules.service.js';
import { presentRule } from './alert-views.js';

const TAG = 'Alerts';

/** Alert rules (docs/alerts.md), admin scope: stored in the database, read by the evaluator on every run. */
export function registerAlertRuleRoutes(api: ApiRouter<Scope>, db: Db): void {
  api.add({
    method: 'post',
    path: '/v1/alert-rules',
    operationId: 'createAlertRule',
    tag: TAG,
    summary: 'Create an alert rule',
    description:
      'Kinds: `efficiency_below` (the DC/AC ratio over a rolling `window`, judged only with enough charging, as the ' +
      'analytics status is), `battery_temperature_above` (`aggregate` avg or max), `device_silent` (no reading for ' +
      'longer than `minutes`), `register_event` (a register reset or jump in the `window`), `dead_letter` (a Kinesis ' +
      'record dead-lettered in the `window`). The condition must hold for `for` (ISO 8601) before the alert fires. ' +
      'Fields a kind does not use are refused.',
    scope: 'admin',
    request: { body: createRuleBody },
    status: 201,
    response: {
      description: 'The rule, defaults filled in',
      schema: alertRule,
      example: {
        id: 2,
        kind: 'efficiency_below',
        threshold: 0.85,
        aggregate: null,
        window: 'PT24H',
        for: 'PT15M',
        minutes: null,
        severity: 'warning',
        devices: null,
        enabled: true,
        createdAt: '2026-11-27T00:00:00.000Z',
        updatedAt: '2026-11-27T00:00:00.000Z',
      },
    },
    handler: async ({ body }) => presentRule(await createRule(db, body)),
  });

  api.add({
    method: 'get',
    path: '/v1/alert-rules',
    operationId: 'listAlertRules',
    tag: TAG,
    summary: 'The alert rules, oldest first',
    scope: 'admin',
    status: 200,
    response: { description: 'Every rule not deleted', schema: alertRuleList },
    handler: async () => ({ items: (await listRules(db)).map(presentRule) }),
  });

  api.add({
    method: 'get',
    path: '/v1/alert-rules/:id',
    operationId: 'getAlertRule',
    tag: TAG,
    summary: 'One alert rule',
    scope: 'admin',
    request: { params: ruleParams },
    status: 200,
    response: { description: 'The rule', schema: alertRule },
    errors: ['alert_rule_not_found'],
    handler: async ({ params }) => {
      const rule = await findRule(db, params.id);
      if (!rule) throw ruleNotFound(params.id);
      return presentRule(rule);
    },
  });

  api.add({
    method: 'patch',
    path: '/v1/alert-rules/:id',
    operationId: 'updateAlertRule',
    tag: TAG,
    summary: 'Change an alert rule',
    description:
      'Any field of its kind but the kind. `enabled: false` resolves its open alerts at once (an `alert.resolved` ' +
      'event for each firing one, reason `rule_disabled`); other changes apply from the next evaluation, which ' +
      'resolves a firing alert the new rule no longer sees as holding.',
    scope: 'admin',
    request: { params: ruleParams, body: patchRuleBody },
    status: 200,
    response: { description: 'The rule as changed', schema: alertRule },
    errors: ['alert_rule_not_found'],
    handler: async ({ params, body }) => presentRule(await patchRule(db, params.id, body)),
  });

  api.add({
    method: 'delete',
    path: '/v1/alert-rules/:id',
    operationId: 'deleteAlertRule',
    tag: TAG,
    summary: 'Delete an alert rule',
    description:
      'Its open alerts resolve at once (an `alert.resolved` event for each firing one, reason `rule_deleted`); its ' +
      'alerts stay listed as history.',
    scope: 'admin',
    request: { params: ruleParams },
    status: 204,
    response: { description: 'Deleted' },
    errors: ['alert_rule_not_found'],
    handler: async ({ params }) => {
      await deleteRule(db, params.id);
    },
  });
}
