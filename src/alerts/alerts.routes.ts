import type { Scope } from '../auth/api-key.table.js';
import type { Db } from '../db/database.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../http/app-error.js';
import { findRule } from './alert-rule.repository.js';
import { presentAlert, presentEvaluation, presentRule } from './alert-views.js';
import { findAlert, listAlerts, listEvaluations } from './alert.repository.js';
import { alertDetail, alertPage, alertParams, alertsQuery } from './alerts.schema.js';

/**
 * The alerts the rules raised (docs/alerts.md): open ones and their history. Read scope, as the
 * analytics they come from (the dashboard shows the firing ones); changing rules needs admin.
 */
export function registerAlertRoutes(api: ApiRouter<Scope>, db: Db): void {
  api.add({
    method: 'get',
    path: '/v1/alerts',
    operationId: 'listAlerts',
    tag: 'Alerts',
    summary: 'Alerts, newest first (e.g. `?state=firing`)',
    description: "Page with `before` = the previous page's `nextBefore`.",
    scope: 'read',
    request: { query: alertsQuery },
    status: 200,
    response: { description: 'One page of alerts', schema: alertPage },
    handler: async ({ query }) => {
      const alerts = await listAlerts(db, {
        state: query.state,
        ruleId: query.rule,
        deviceId: query.device,
        before: query.before,
        limit: query.limit + 1,
      });
      const page = alerts.slice(0, query.limit);
      return {
        items: page.map(presentAlert),
        nextBefore: alerts.length > query.limit ? page.at(-1)!.id : null,
      };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/alerts/:id',
    operationId: 'getAlert',
    tag: 'Alerts',
    summary: 'One alert with its rule and its latest evaluations',
    scope: 'read',
    request: { params: alertParams },
    status: 200,
    response: { description: 'The alert', schema: alertDetail },
    errors: ['alert_not_found'],
    handler: async ({ params }) => {
      const alert = await findAlert(db, params.id);
      if (!alert) throw new AppError('alert_not_found', `No alert ${params.id}.`);
      const rule = (await findRule(db, alert.rule_id, true))!;
      const evaluations = await listEvaluations(db, alert.id);
      return { ...presentAlert(alert), rule: presentRule(rule), evaluations: evaluations.map(presentEvaluation) };
    },
  });
}
