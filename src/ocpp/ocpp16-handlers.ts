import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { TimestampLimits } from '../telemetry/ingestion.schema.js';
import type { IngestionService } from '../telemetry/ingestion.service.js';
import { recordBoot, recordConnectorStatus, recordHeartbeat } from './charge-point.repository.js';
import { connectorMeterId, registerReadings, type MeterValue16 } from './meter-values.js';
import { sampled, storeRegisterReadings } from './ocpp-readings.js';
import type { CallHandler } from './ocpp-rpc.js';
import { ocpp16TransactionHandlers } from './ocpp16-transactions.js';

export interface OcppHandlerDeps {
  db: Db;
  logger: Logger;
  ingestion: IngestionService;
  limits: TimestampLimits;
  /** Counts sampled values that are neither the register nor the voltage (a metric). */
  countIgnored(samples: number): void;
  /** The interval a booted station is told to send heartbeats at. */
  heartbeatIntervalSeconds: number;
  /** Whether an id token no admin mapped is Accepted (recorded with its transactions) or Invalid. */
  acceptUnknownIdTokens: boolean;
}

// Strict mode has validated every call against the official 1.6 schema before its handler
// runs: these are the fields the handlers read, as that schema types them.
interface BootNotificationReq {
  chargePointVendor: string;
  chargePointModel: string;
  firmwareVersion?: string;
}
interface StatusNotificationReq {
  connectorId: number;
  errorCode: string;
  status: string;
  info?: string;
  timestamp?: string;
}
interface MeterValuesReq {
  connectorId: number;
  transactionId?: number;
  meterValue: MeterValue16[];
}

/**
 * The OCPP 1.6 actions the service implements, by action. Any other call is answered
 * `NotImplemented` by ocpp-rpc (no handler).
 */
export function ocpp16Handlers(chargePointId: string, deps: OcppHandlerDeps): Record<string, CallHandler> {
  const now = () => new Date().toISOString();
  return {
    BootNotification: async (params) => {
      const boot = params as BootNotificationReq;
      await recordBoot(deps.db, chargePointId, {
        vendor: boot.chargePointVendor,
        model: boot.chargePointModel,
        firmwareVersion: boot.firmwareVersion ?? null,
      });
      return { status: 'Accepted', currentTime: now(), interval: deps.heartbeatIntervalSeconds };
    },
    Heartbeat: async () => {
      await recordHeartbeat(deps.db, chargePointId);
      return { currentTime: now() };
    },
    StatusNotification: async (params) => {
      const status = params as StatusNotificationReq;
      await recordConnectorStatus(deps.db, chargePointId, {
        connectorId: status.connectorId,
        status: status.status,
        errorCode: status.errorCode,
        info: status.info ?? null,
        statusAt: status.timestamp === undefined ? new Date() : new Date(status.timestamp),
      });
      return {};
    },
    MeterValues: async (params) => {
      const call = params as MeterValuesReq;
      const { readings, ignored } = sampled(() =>
        registerReadings(connectorMeterId(chargePointId, call.connectorId), call.meterValue),
      );
      deps.countIgnored(ignored);
      await storeRegisterReadings(deps.ingestion, deps.limits, readings);
      return {};
    },
    ...ocpp16TransactionHandlers(chargePointId, deps),
  };
}
