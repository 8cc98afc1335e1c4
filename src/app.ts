import Router from '@koa/router';
import Koa from 'koa';

import { registerAlertRuleRoutes } from './alerts/alert-rules.routes.js';
import { registerAlertRoutes } from './alerts/alerts.routes.js';
import { registerAnalyticsRoutes } from './analytics/analytics.routes.js';
import type { ApiKeyService } from './auth/api-key.service.js';
import type { Scope } from './auth/api-key.table.js';
import { authenticate, requireScope, SCOPED_ROUTE_ERRORS } from './auth/auth.middleware.js';
import { registerKeyRoutes } from './auth/keys.routes.js';
import type { RateLimiter } from './auth/rate-limiter.js';
import { registerDashboardRoutes } from './dashboard/dashboard.routes.js';
import type { Db } from './db/database.js';
import { registerHealthRoutes } from './health/health.routes.js';
import { ApiRouter, openRoutes } from './http/api-router.js';
import type { AppState } from './http/app-state.js';
import { bodyParsers } from './http/body-parser.js';
import { errorHandler } from './http/error-handler.js';
import { requestId } from './http/request-id.js';
import { requestLog } from './http/request-log.js';
import type { AppContext } from './http/validate.js';
import type { Logger } from './logger.js';
import { registerMappingRoutes } from './mapping/mapping.routes.js';
import type { Metrics } from './metrics/metrics.js';
import { registerMetricsRoutes } from './metrics/metrics.routes.js';
import { registerChargePointRoutes } from './ocpp/charge-point.routes.js';
import { registerIdTokenRoutes } from './ocpp/id-token.routes.js';
import { registerDocsRoutes } from './openapi/docs.routes.js';
import { registerOpenApiRoutes } from './openapi/openapi.routes.js';
import type { ReadRouter } from './replicas/read-router.js';
import { registerDeadLetterRoutes } from './streams/dead-letter.routes.js';
import { registerIngestionRoutes, type IngestionLimits } from './telemetry/ingestion.routes.js';
import type { IngestionService } from './telemetry/ingestion.service.js';
import { registerLiveRoutes } from './telemetry/live.routes.js';
import { registerRegisterEventRoutes } from './telemetry/register-events.routes.js';
import { registerWebhookRoutes, type WebhookRouteOptions } from './webhooks/webhooks.routes.js';

export interface AppDeps {
  /** The primary: writes, keys, mappings and everything else that is not a replica read. */
  db: Db;
  /** Analytics and live reads: replicas when configured, with the primary behind them. */
  reads: ReadRouter;
  /** True once the service is stopping (readiness goes false before the listener closes). */
  stopping: () => boolean;
  ingestion: IngestionService;
  keys: ApiKeyService;
  rateLimiter: RateLimiter;
  metrics: Metrics;
  logger: Logger;
  limits: IngestionLimits & { maxBodyBytes: number };
  expectedMigrations: readonly string[];
  /** An object store for the archive is configured (ARCHIVE_BUCKET), for /readyz. */
  archiveStoreConfigured?: boolean;
  /** The webhook routes' settings; default: insecure targets refused. */
  webhooks?: WebhookRouteOptions;
}

/** The HTTP application: routes and middleware only; it neither listens nor connects. */
export function createApp(deps: AppDeps): Koa<AppState, AppContext> {
  const app = new Koa<AppState, AppContext>();
  app.proxy = false;
  const router = new Router<AppState, AppContext>();
  const api = new ApiRouter<Scope>(router, { scopeCheck: requireScope, scopeErrors: SCOPED_ROUTE_ERRORS });

  registerHealthRoutes(api, deps.db, deps.expectedMigrations, {
    reads: deps.reads,
    stopping: deps.stopping,
    archiveStoreConfigured: deps.archiveStoreConfigured ?? false,
  });
  registerMetricsRoutes(api, deps.metrics);
  registerIngestionRoutes(api, deps.ingestion, deps.limits, deps.metrics);
  registerLiveRoutes(api, deps.reads);
  registerRegisterEventRoutes(api, deps.reads);
  registerMappingRoutes(api, deps.db);
  registerAnalyticsRoutes(api, deps.reads, deps.metrics);
  registerKeyRoutes(api, deps.keys);
  registerChargePointRoutes(api, deps.db);
  registerIdTokenRoutes(api, deps.db);
  registerDeadLetterRoutes(api, deps.db);
  registerAlertRuleRoutes(api, deps.db);
  registerAlertRoutes(api, deps.db);
  registerWebhookRoutes(api, deps.db, deps.webhooks ?? { allowInsecureTargets: false });
  registerOpenApiRoutes(api);
  registerDocsRoutes(router);
  registerDashboardRoutes(router);

  // While stopping, every answer closes its connection: keep-alive clients (a balancer's
  // pooled connections) reconnect, to another instance, before this one closes its listener.
  app.use(async (ctx, next) => {
    if (deps.stopping()) ctx.set('Connection', 'close');
    await next();
  });
  app.use(requestId());
  app.use(
    requestLog(deps.logger, ({ method, route, status, seconds }) =>
      deps.metrics.httpSeconds.observe({ method, route, status: String(status) }, seconds),
    ),
  );
  app.use(errorHandler(deps.logger));
  app.use(authenticate(deps.keys, deps.rateLimiter, openRoutes(api)));
  for (const middleware of bodyParsers(deps.limits.maxBodyBytes)) app.use(middleware);
  app.use(router.routes());
  // Not thrown: the router then sets the Allow header (405 must carry it), and the error
  // handler turns the bare 405/501 into the standard error shape.
  app.use(router.allowedMethods());
  return app;
}
