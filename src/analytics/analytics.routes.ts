import type Router from '@koa/router';
import type { Db } from '../db/database.js';
import { requireScope } from '../auth/auth.middleware.js';
import type { AppState } from '../http/app-state.js';
import { vehicleParams } from '../http/device-id.schema.js';
import { validated, type AppContext } from '../http/validate.js';
import { performanceQuery } from './analytics.schema.js';
import type { Metrics } from '../metrics/metrics.js';
import { getPerformance } from './analytics.service.js';

/** How a vehicle charged over a window: AC in, DC delivered, efficiency, temperature. */
export function registerAnalyticsRoutes(router: Router<AppState, AppContext>, db: Db, metrics: Metrics): void {
  router.get(
    '/v1/analytics/performance/:vehicleId',
    requireScope('read'),
    validated({ params: vehicleParams, query: performanceQuery }, async ({ params, query }, ctx) => {
      const stopTimer = metrics.analyticsSeconds.startTimer();
      try {
        ctx.body = await getPerformance(db, params.vehicleId, query);
      } finally {
        stopTimer();
      }
    }),
  );
}
