import type { Middleware } from 'koa';

import type { Scope } from '../auth/api-key.table.js';
import { assertOwnDevice, principalOf } from '../auth/auth.middleware.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../http/app-error.js';
import type { AppState } from '../http/app-state.js';
import type { Metrics } from '../metrics/metrics.js';
import { ingestResult, meterBatchSchema, vehicleBatchSchema, type TimestampLimits } from './ingestion.schema.js';
import type { IngestionService } from './ingestion.service.js';
import type { MeterReading, ReadingKind, VehicleReading } from './reading.js';
import { registerPrecisionIssues, type RegisterField } from './register-precision.js';

export interface IngestionLimits extends TimestampLimits {
  maxReadingsPerRequest: number;
}

/** Counts the readings of requests refused for what they hold (not for overload). */
function countRejections(metrics: Metrics, stream: ReadingKind): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof AppError && error.status >= 400 && error.status < 500 && error.status !== 429) {
        const body: unknown = (ctx.request as { body?: unknown }).body;
        metrics.readings.inc({ stream, outcome: 'rejected' }, Array.isArray(body) ? body.length : 1);
      }
      throw error;
    }
  };
}

/** A register whose digits as sent are not the value kept is a 400 naming it (register-precision.ts). */
function assertRegistersKept(
  ctx: { request: unknown },
  readings: readonly (MeterReading | VehicleReading)[],
  field: RegisterField,
): void {
  const source = (ctx.request as { rawBody?: unknown }).rawBody;
  if (typeof source !== 'string') return;
  const issues = registerPrecisionIssues(source, readings, field);
  if (issues.length > 0) throw AppError.validation(issues);
}

/** Besides those of every keyed route with a body: a device-bound key, and the ingest queue refusing. */
const ingestErrors = ['device_forbidden', 'overloaded', 'shutting_down'] as const;

const INGEST_RULES =
  'One reading or an array of readings (up to the configured maximum). All or nothing: one invalid reading refuses the ' +
  'whole request. 202 only once the readings are committed; a reading whose device and timestamp are already stored ' +
  'is counted as a duplicate and the first one kept. A device-bound key may only send its own device.';

export function registerIngestionRoutes(
  api: ApiRouter<Scope>,
  service: IngestionService,
  limits: IngestionLimits,
  metrics: Metrics,
): void {
  api.add({
    method: 'post',
    path: '/v1/ingestion/meter',
    operationId: 'ingestMeterReadings',
    tag: 'Ingestion',
    summary: 'Store smart-meter readings (AC energy, voltage)',
    description: INGEST_RULES,
    scope: 'ingest',
    before: [countRejections(metrics, 'meter')],
    request: { body: meterBatchSchema(limits, limits.maxReadingsPerRequest) },
    status: 202,
    response: { description: 'Stored (committed)', schema: ingestResult },
    errors: ingestErrors,
    handler: ({ body }, ctx) => {
      assertOwnDevice(
        principalOf(ctx.state),
        'meter',
        body.map((r) => r.meterId),
        'meterId',
      );
      assertRegistersKept(ctx, body, 'kwhConsumedAcTotal');
      return service.ingestMeterReadings(body);
    },
  });

  api.add({
    method: 'post',
    path: '/v1/ingestion/vehicle',
    operationId: 'ingestVehicleReadings',
    tag: 'Ingestion',
    summary: 'Store vehicle readings (state of charge, DC energy, battery temperature)',
    description: INGEST_RULES,
    scope: 'ingest',
    before: [countRejections(metrics, 'vehicle')],
    request: { body: vehicleBatchSchema(limits, limits.maxReadingsPerRequest) },
    status: 202,
    response: { description: 'Stored (committed)', schema: ingestResult },
    errors: ingestErrors,
    handler: ({ body }, ctx) => {
      assertOwnDevice(
        principalOf(ctx.state),
        'vehicle',
        body.map((r) => r.vehicleId),
        'vehicleId',
      );
      assertRegistersKept(ctx, body, 'kwhDeliveredDcTotal');
      return service.ingestVehicleReadings(body);
    },
  });
}
